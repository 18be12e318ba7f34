"""The plan's records (StepPlan, BuildPlan, Plan) are spelled-out classes, cheaper to
define than dataclasses at every `kiln validate`; they keep what the dataclasses gave:
keyword or positional construction, fresh defaults, field-wise equality, a readable repr."""

from __future__ import annotations

import pytest

from kiln.communicator.config import CommConfig
from kiln.engine.plan import BuildPlan, StepPlan
from kiln.options.spec import Duration


def test_step_defaults_equality_and_repr() -> None:
    step = StepPlan(type="shell", where="provisioner 1", raw={}, config=None)
    assert step.pause_before == Duration(0.0, "0s") == step.timeout
    assert (step.max_retries, step.keep_input_artifact, step.name) == (0, None, "")
    same = StepPlan("shell", "provisioner 1", {}, None, Duration(0.0, "0s"))
    assert step == same
    assert step != StepPlan("shell", "provisioner 2", {}, None)
    assert repr(step).startswith("StepPlan(type='shell', where='provisioner 1', raw={}, ")
    with pytest.raises(TypeError):
        hash(step)


def test_build_lists_are_its_own_and_builder_is_keyword_only() -> None:
    a = BuildPlan("a", "qemu", None, CommConfig(), builder="B")
    b = BuildPlan("b", "qemu", None, CommConfig())
    a.provisioners.append(StepPlan("shell", "provisioner 1", {}, None))
    assert b.provisioners == [] and b.post_processors == []
    assert (a.builder, b.builder, a.template_path) == ("B", None, "")
    with pytest.raises(TypeError):
        BuildPlan("c", "qemu", None, CommConfig(), [], [], None, None, "B")  # type: ignore[misc]

"""Install checkpoints (`-checkpoint`): look one up, resume from it, or save one.

Three steps, in the qemu step list only with -checkpoint (docs/checkpoints.md):

* `step_checkpoint_lookup` (after the ISO): the key of this install's inputs; a matching,
  intact checkpoint is resumed from, otherwise kiln says why not (the inputs that differ
  from the nearest checkpoint of this build) and installs from scratch.
* `step_resume` (after QEMU started with `-incoming defer`): load the saved RAM and
  device state and let the guest run; the boot command is skipped.
* `step_checkpoint` (after the communicator connected: the install is over): a resumed
  build sets the guest's clock, which stopped at the save; a new one pauses the guest,
  writes its state, copies its disks, lets it go on, and publishes the checkpoint in the
  background while the provisioners run.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from kiln import proc
from kiln.builders.qemu.checkpoint_key import (
    FORMAT,
    FORMAT_INPUT,
    MASKED_DATA,
    QEMU_VERSION_INPUT,
    Inputs,
    command_line_input,
    differences,
    digest_file,
    digest_text,
    key_of,
    masked_functions,
    masked_qemuargs_data,
    media_inputs,
    option_inputs,
    short_key,
    tree_inputs,
)
from kiln.builders.qemu.checkpoint_store import (
    EFIVARS_FILE,
    SSH_KEY_FILE,
    STATE_FILE,
    Checkpoint,
    CheckpointStore,
    CorruptCheckpoint,
    Draft,
    Manifest,
    StoreBusy,
    human_age,
    human_bytes,
    store_root,
)
from kiln.builders.qemu.process import QemuError
from kiln.builders.qemu.state import CheckpointRun, QemuState
from kiln.builders.qemu.step_boot import boot_steps
from kiln.builders.qemu.step_efivars import efivars_path
from kiln.builders.qemu.step_qemu import resolve_accelerator
from kiln.engine.options import CheckpointMode
from kiln.errors import KilnError
from kiln.media.checksum import resolve_checksum
from kiln.template.engine import render

MAX_SHOWN_CHANGES = 6  # inputs a miss names (then "and N more")
SAVE_TIMEOUT = 600.0  # seconds to write the machine state (RAM size / disk speed)
LOAD_TIMEOUT = 600.0
# qemuargs switches that take the disks or the machine state out of kiln's hands.
CONFLICTING_QEMUARGS = {
    "-drive": "it replaces the disks kiln saves and restores",
    "-snapshot": "the install's writes would never reach the disk",
    "-loadvm": "it loads another machine state",
    "-incoming": "kiln restores the machine state itself",
}


# --- lookup ----------------------------------------------------------------------------


def unsupported(state: QemuState) -> str | None:
    """Why this build cannot have a checkpoint (None: it can)."""
    c, comm = state.plan.config, state.plan.comm
    if comm.communicator == "none":
        return (
            'communicator is "none": the install is over when the communicator first '
            "connects, and this build has none"
        )
    if c.net_bridge:
        return (
            "net_bridge is set: a resumed guest would come back on the bridge with the "
            "saved machine's MAC and IP addresses"
        )
    for row in c.qemuargs:
        if row and row[0] in CONFLICTING_QEMUARGS:
            return f"qemuargs sets {row[0]}: {CONFLICTING_QEMUARGS[row[0]]}"
    return None


async def qemu_version(binary: str) -> str:
    done = await proc.run([binary, "--version"], what="QEMU")
    return done.stdout.splitlines()[0].strip() if done.stdout else ""


async def iso_input(state: QemuState) -> str:
    """The installer's (or source image's) identity: its checksum, else its bytes' hash."""
    c = state.plan.config
    checksum = state.iso_checksum
    if checksum is None and c.iso_checksum.startswith("file:"):
        location = c.iso_checksum.partition(":")[2]
        if location.startswith(("http://", "https://")):
            raise KilnError(
                "the checkpoint key needs the ISO's checksum, which is in a checksum file a "
                "dry run does not download"
            )
        url = c.iso_url or c.iso_urls[0]
        tdir = Path(state.plan.func_context.template_dir) if state.plan.func_context else Path()
        checksum = (await resolve_checksum(c.iso_checksum, url, template_dir=tdir)).normalized()
    if checksum and checksum != "none":
        return checksum
    local = Path(state.iso_path or "")
    if state.iso_path and local.is_file():
        return await asyncio.to_thread(digest_file, local)
    return "url:" + (c.iso_url or " ".join(c.iso_urls))


def boot_command_input(state: QemuState) -> str:
    """The boot command as typed, with ports, the HTTP address, the SSH key masked."""
    funcs = masked_functions(state.plan.functions())
    data = {**MASKED_DATA, "Name": state.plan.config.vm_name}
    typed = [render(text, data, funcs, where="boot_command") for text, _ in boot_steps(state)]
    return digest_text("\0".join(typed))


def masked_qemuargs(state: QemuState) -> list[list[str]]:
    c, comm = state.plan.config, state.plan.comm
    data = masked_qemuargs_data(c, comm, state.accelerator)
    funcs = masked_functions(state.plan.functions())
    return [
        [render(arg, data, funcs, where=f"qemuargs[{i}][{j}]") for j, arg in enumerate(row)]
        for i, row in enumerate(c.qemuargs)
    ]


def file_inputs(state: QemuState) -> Inputs:
    """Answer files, floppy and CD contents, firmware: by content (blocking: a thread)."""
    from kiln.media.cdrom import collect_cd_files
    from kiln.media.floppy import collect_floppy_files

    c = state.plan.config
    inputs: Inputs = {}
    for name, path in (("firmware", c.firmware), ("efi_firmware_code", c.efi_firmware_code),
                       ("efi_firmware_vars", c.efi_firmware_vars)):  # fmt: skip
        if path and (name == "firmware" or c.efi_boot) and Path(path).is_file():
            inputs[f"{name} (file)"] = digest_file(Path(path))
    if c.http_directory:
        inputs.update(tree_inputs("http_directory", Path(c.http_directory)))
    for path, text in sorted(c.http_content.items()):
        inputs[f"http_content/{path.lstrip('/')}"] = digest_text(text)
    if c.floppy_files or c.floppy_dirs or c.floppy_content:
        entries = collect_floppy_files(c.floppy_files, c.floppy_dirs, c.floppy_content,
                                       base=Path.cwd())  # fmt: skip
        inputs["floppy_label"] = c.floppy_label
        inputs.update(media_inputs("floppy", entries))
    if c.cd_files or c.cd_content:
        entries = collect_cd_files(c.cd_files, c.cd_content, base=Path.cwd())
        inputs["cd_label"] = c.cd_label
        inputs.update(media_inputs("cd", entries))
    return inputs


async def install_inputs(state: QemuState) -> Inputs:
    """Every input of the install, by name (see kiln.builders.qemu.checkpoint_key)."""
    c = state.plan.config
    inputs: Inputs = {FORMAT_INPUT: str(FORMAT)}
    inputs[QEMU_VERSION_INPUT] = await qemu_version(c.qemu_binary)
    inputs["iso_checksum"] = await iso_input(state)
    inputs.update(option_inputs(c, state.accelerator))
    qemuargs = masked_qemuargs(state)
    inputs["qemuargs"] = digest_text(repr(qemuargs))
    inputs["boot_command"] = boot_command_input(state)
    inputs.update(await asyncio.to_thread(file_inputs, state))
    inputs["QEMU command line"] = command_line_input(
        c, state.plan.comm, state.accelerator, qemuargs
    )
    return inputs


@asynccontextmanager
async def step_checkpoint_lookup(state: QemuState) -> AsyncIterator[None]:
    reason = unsupported(state)
    if reason is not None:
        state.ui.warn(f"-checkpoint: {reason}. This build neither uses nor saves a checkpoint.")
        yield
        return
    if not state.accelerator:
        state.accelerator = await resolve_accelerator(state)
    try:
        inputs = await install_inputs(state)
    except KilnError as err:
        if not state.options.dry_run:
            raise
        state.ui.say(f"Cannot tell whether a checkpoint matches: {err}")
        yield
        return
    run = CheckpointRun(key_of(inputs), inputs, CheckpointStore(store_root(state.options.env)))
    try:
        await _choose(state, run)
    except (OSError, StoreBusy) as err:
        state.ui.warn(
            f"-checkpoint: the checkpoint store {run.store.root} cannot be used ({err}). This "
            "build neither uses nor saves a checkpoint."
        )
        yield
        return
    state.checkpoint = run
    try:
        yield
    finally:
        if run.restore is not None:
            run.restore.release()


async def _choose(state: QemuState, run: CheckpointRun) -> None:
    """Resume from the key's checkpoint if it is there, intact and young enough."""
    short, dry = short_key(run.key), state.options.dry_run
    saving = "would install from scratch and save" if dry else "installing from scratch; saving"
    if state.options.checkpoint == CheckpointMode.REFRESH:
        run.replace = True
        state.ui.say(f"-checkpoint=refresh: {saving} checkpoint {short} when SSH connects")
        return
    found: Checkpoint | None = None
    try:
        found = await run.store.open(run.key)
        if found is not None:
            age, max_age = found.age(), state.options.checkpoint_max_age
            if max_age is not None and age > max_age:
                found.release()
                run.replace = True
                state.ui.say(
                    f"Checkpoint {short} is {human_age(age)} old, older than "
                    f"-checkpoint-max-age ({human_age(max_age)}): {saving} a new one when SSH "
                    "connects"
                )
                return
            await asyncio.to_thread(found.verify, checksums=not dry)
            run.restore = found
            verb = "Would resume" if dry else "Found"
            state.ui.say(f"{verb} checkpoint {short} of this install (saved {human_age(age)} ago)")
            return
    except CorruptCheckpoint as err:
        if found is not None:
            found.release()
        run.replace = True
        state.ui.warn(
            f"Checkpoint {short} ({run.store.path_of(run.key)}) is unusable: {err}. Ignoring "
            f"it: {saving} a new one when SSH connects."
        )
        return
    except BaseException:
        if found is not None:
            found.release()  # not resuming from it after all (cancelled, store unusable)
        raise
    nearest = nearest_checkpoint(run.store, run.inputs, state.plan.template_path, state.name)
    if nearest is None:
        state.ui.say(f"No checkpoint of this build yet: {saving} checkpoint {short} when SSH "
                     "connects")  # fmt: skip
        return
    changes = differences(nearest.manifest.inputs, run.inputs)
    why = "; ".join(changes[:MAX_SHOWN_CHANGES])
    if len(changes) > MAX_SHOWN_CHANGES:
        why += f"; and {len(changes) - MAX_SHOWN_CHANGES} more"
    m = nearest.manifest
    of = (
        ""
        if m.template == state.plan.template_path and m.build == state.name
        else (f" of build {m.build!r} in {m.template}")
    )
    state.ui.say(
        f"No checkpoint for this install: {why} (since checkpoint {short_key(nearest.key)}{of}, "
        f"saved {human_age(nearest.age())} ago): {saving} checkpoint {short} when SSH connects"
    )


def nearest_checkpoint(
    store: CheckpointStore, inputs: Inputs, template: str, build: str
) -> Checkpoint | None:
    """The checkpoint whose inputs differ least from `inputs`: this template's build
    first, then any other; the newest among equals."""
    best: tuple[tuple[bool, int, float], Checkpoint] | None = None
    key = key_of(inputs)
    for entry in store.entries():
        if not isinstance(entry, Checkpoint) or entry.key == key:
            continue
        m = entry.manifest
        rank = (not (m.template == template and m.build == build),
                len(differences(m.inputs, inputs)), -m.created)  # fmt: skip
        if best is None or rank < best[0]:
            best = (rank, entry)
    return best[1] if best is not None else None


# --- resume ----------------------------------------------------------------------------


@asynccontextmanager
async def step_resume(state: QemuState) -> AsyncIterator[None]:
    run = state.checkpoint
    if run is None or run.restore is None:
        yield
        return
    qemu = state.qemu
    assert qemu is not None
    checkpoint = run.restore
    short = short_key(run.key)
    state.ui.say(f"Resuming from checkpoint {short}… saved {human_age(checkpoint.age())} ago")
    try:
        await qemu.load_state(checkpoint.file(STATE_FILE), timeout=LOAD_TIMEOUT)
    except QemuError as err:
        raise KilnError(
            f"Could not resume from checkpoint {short}: {err}. Run with -checkpoint=refresh to "
            "install from scratch and replace it."
        ) from None
    checkpoint.release()  # read: prune and refresh may have it now
    await qemu.resume()
    run.resumed = True
    yield


# --- save, or set the clock -------------------------------------------------------------


@asynccontextmanager
async def step_checkpoint(state: QemuState) -> AsyncIterator[None]:
    run = state.checkpoint
    if run is None:
        yield
        return
    if run.resumed:
        await set_guest_clock(state)
        yield
        return
    finishing = await save_checkpoint(state, run)
    if finishing is None:
        yield
        return
    try:
        yield
    except asyncio.CancelledError:
        finishing.cancel()  # interrupted: nothing is published
        await asyncio.gather(finishing, return_exceptions=True)
        raise
    except BaseException:
        await finishing  # the build failed after the boundary: the checkpoint is good
        raise
    await finishing


async def save_checkpoint(state: QemuState, run: CheckpointRun) -> asyncio.Task[None] | None:
    """Pause the guest, save its state and disks, let it go on; return the task that
    checksums and publishes the checkpoint (None when the save failed: the build goes on
    without one)."""
    qemu = state.qemu
    assert qemu is not None
    c = state.plan.config
    short = short_key(run.key)
    state.ui.say(f"Saving checkpoint {short}: the install is over (SSH connected)...")
    created = time.time()
    began = time.monotonic()
    disks = [f"disk-{i}.{c.format}" for i in range(len(state.disk_paths))]
    ssh_key = state.work_dir / "temporary_ssh_key"
    has_key = ssh_key.exists() and not state.plan.comm.ssh_private_key_file
    try:
        draft = run.store.draft(run.key)
    except OSError as err:
        state.ui.warn(f"Could not save checkpoint {short}: {err}. The build goes on without one.")
        return None
    paused = True
    try:
        await qemu.save_state(draft.path / STATE_FILE, timeout=SAVE_TIMEOUT)
        # Paused, its images flushed and released: they match the state just written.
        for name, path in zip(disks, state.disk_paths, strict=True):
            await state.driver.copy_sparse(path, str(draft.path / name))
        if c.efi_boot:
            await state.driver.copy_sparse(efivars_path(state), str(draft.path / EFIVARS_FILE))
        if has_key:
            await state.driver.copy_file(str(ssh_key), str(draft.path / SSH_KEY_FILE))
        await qemu.resume()
        paused = False
    except (KilnError, OSError) as err:
        draft.discard()
        if qemu.returncode is not None:
            raise
        await qemu.cancel_migration()
        if paused:
            await qemu.resume()
        state.ui.warn(f"Could not save checkpoint {short}: {err}. The build goes on without one.")
        return None
    except BaseException:
        draft.discard()
        raise
    state.ui.message(f"Machine paused {time.monotonic() - began:.2f}s to save its state and disks")
    manifest = Manifest(
        key=run.key,
        template=state.plan.template_path,
        build=state.name,
        created=created,
        qemu_version=run.inputs.get(QEMU_VERSION_INPUT, ""),
        inputs=run.inputs,
        files=(),
        disks=tuple(disks),
        disk_format=c.format,
        efivars=EFIVARS_FILE if c.efi_boot else None,
        ssh_key=SSH_KEY_FILE if has_key else None,
    )
    return asyncio.create_task(_publish(state, run, draft, manifest), name=f"checkpoint {short}")


async def _publish(state: QemuState, run: CheckpointRun, draft: Draft, manifest: Manifest) -> None:
    """Checksum the files and publish the draft (while the build goes on)."""
    short = short_key(run.key)
    names = [STATE_FILE, *manifest.disks]
    names += [n for n in (manifest.efivars, manifest.ssh_key) if n]
    try:

        def record() -> None:
            for name in names:
                run.store.add_file(draft, name, mode=0o400 if name == SSH_KEY_FILE else 0o444)

        await asyncio.to_thread(record)
        done = dataclasses.replace(manifest, files=tuple(draft.files))
        published = await run.store.publish(draft, done, replace=run.replace)
    except asyncio.CancelledError:
        draft.discard()
        raise
    except (OSError, KilnError) as err:
        draft.discard()
        state.ui.warn(f"Could not save checkpoint {short}: {err}. The build goes on without one.")
        return
    if published:
        state.ui.message(
            f"Checkpoint {short} saved ({human_bytes(done.size)}) in {run.store.path_of(run.key)}"
        )
    else:
        state.ui.message(f"Checkpoint {short} was saved by another build meanwhile: kept that one")


async def set_guest_clock(state: QemuState) -> None:
    """Set the resumed guest's clock, which stopped when the checkpoint was saved."""
    comm = state.comm
    assert comm is not None
    now = time.time()
    epoch = round(now)
    set_cmd = f"date -u -s @{epoch} >/dev/null 2>&1"
    command = f'before=$(date +%s); {set_cmd} || sudo -n {set_cmd}; echo "kiln-clock $? $before"'
    lines: list[str] = []
    errors: list[str] = []
    try:
        await comm.run(command, stdout=lines.append, stderr=errors.append, timeout=60)
    except KilnError as err:
        errors.append(str(err))
    status, before = _clock_report(lines)
    behind = f"{human_age(now - before)} behind" if before is not None else "behind"
    if status == 0:
        state.ui.message(f"Set the guest's clock to the host's (it was {behind}: the checkpoint's)")
        return
    state.ui.warn(
        f"Could not set the guest's clock (date -s, as {state.plan.comm.ssh_username} and "
        f"with sudo -n): it is {behind} the host. Set it in a provisioner before anything "
        "that checks certificates or dates." + (f" ({'; '.join(errors)})" if errors else "")
    )


def _clock_report(lines: list[str]) -> tuple[int | None, float | None]:
    for line in lines:
        parts = line.split()
        if len(parts) == 3 and parts[0] == "kiln-clock":
            with contextlib.suppress(ValueError):
                return int(parts[1]), float(parts[2])
    return None, None

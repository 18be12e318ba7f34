"""The build's generated data: `{{ build `Host` }}` in provisioners, artifacts' state."""

from __future__ import annotations

from kiln.builders.qemu.state import QemuState
from kiln.engine.run_id import RUN_UUID

ID_NOT_IMPLEMENTED = "ERR_ID_NOT_IMPLEMENTED_BY_BUILDER"


def build_values(state: QemuState) -> dict[str, str]:
    """Packer's generated data for provisioners (commonsteps.PopulateProvisionHookData).

    These are `{{ build `X` }}` and `{{ .X }}` in provisioners. The qemu builder sets no
    instance id, so `ID` is Packer's placeholder; the HTTP values are set even without
    an `http_directory` (port 0), as Packer's qemu builder does.
    """
    comm = state.plan.comm
    port = state.comm_host_port()
    http_port = str(state.http_port)
    return {
        "ID": ID_NOT_IMPLEMENTED,
        "Host": comm.ssh_host or "127.0.0.1",
        "Port": str(port if port is not None else comm.ssh_port),
        "User": comm.ssh_username,
        "Password": comm.ssh_password,
        "ConnType": comm.communicator,
        "SSHPublicKey": state.ssh_public_key,
        "SSHPrivateKey": state.ssh_private_key,
        "PackerRunUUID": RUN_UUID,
        "PackerHTTPIP": state.http_ip,
        "PackerHTTPPort": http_port,
        "PackerHTTPAddr": f"{state.http_ip}:{http_port}",
    }

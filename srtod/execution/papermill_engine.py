"""papermill engine ``srtod`` (``papermill --engine srtod``): the kernel talks to papermill over Unix
sockets (ZeroMQ's IPC transport) instead of TCP ports on localhost.

With TCP, jupyter_client picks five free ports, closes them and hands them to the kernel, which binds
them a second later. Two notebooks started at the same instant (``dvc queue start -j 2`` runs the
stages of two experiments in lockstep) can pick the same port: one kernel dies with "Address already
in use", the other receives the first one's messages ("Invalid Signature"). IPC sockets are files
in a folder of each kernel's own, so two kernels never share one, even when started in one folder.
"""
import os
import shutil
import tempfile

from jupyter_client.manager import AsyncKernelManager
from papermill.engines import NBClientEngine
from traitlets import default


class IPCKernelManager(AsyncKernelManager):
    """The kernel manager nbclient uses, with the IPC transport by default and its socket files in a
    temporary folder of its own (jupyter_client would put them at ``./kernel-ipc-<n>``, shared by
    every kernel started in the same folder)."""

    _ipc_dir = None

    @default("transport")
    def _default_transport(self):
        return "ipc"

    def _ip_default(self):  # traitlets' dynamic default of `ip`, which names the socket files
        if self.transport != "ipc":
            return super()._ip_default()
        self._ipc_dir = tempfile.mkdtemp(prefix="srtod-kernel-")
        return os.path.join(self._ipc_dir, "ipc")

    def cleanup_ipc_files(self):
        super().cleanup_ipc_files()
        if self._ipc_dir:
            shutil.rmtree(self._ipc_dir, ignore_errors=True)


class IPCEngine(NBClientEngine):
    """papermill's default engine (nbclient) with :class:`IPCKernelManager`."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
        kwargs.setdefault("kernel_manager_class", IPCKernelManager)
        return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

"""papermill engine ``srtod`` (``papermill --engine srtod``): the kernel talks to papermill over Unix
sockets (ZeroMQ's IPC transport) instead of TCP ports on localhost.

With TCP, jupyter_client picks five free ports, closes them and hands them to the kernel, which binds
them a second later. Two notebooks started at the same instant (``dvc queue start -j 2`` runs the
stages of two experiments in lockstep) can pick the same port: one kernel dies with "Address already
in use", the other receives the first one's messages ("Invalid Signature"). IPC sockets are files
named after each kernel's own connection file, so two kernels never share one.
"""
from jupyter_client.manager import AsyncKernelManager
from papermill.engines import NBClientEngine
from traitlets import default


class IPCKernelManager(AsyncKernelManager):
    """The kernel manager nbclient uses, with the IPC transport by default."""

    @default("transport")
    def _default_transport(self):
        return "ipc"


class IPCEngine(NBClientEngine):
    """papermill's default engine (nbclient) with :class:`IPCKernelManager`."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
        kwargs.setdefault("kernel_manager_class", IPCKernelManager)
        return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

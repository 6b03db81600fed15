#!/usr/bin/env python3
"""Runs linux.uml with the XSAVE register set hidden from its ptrace calls.

Debian 12's UML (6.1) saves and restores its processes' FPU state with
PTRACE_GETREGSET/SETREGSET NT_X86_XSTATE into a fixed buffer. On hosts whose XSAVE area is
larger (AMX: about 11 KB) the host kernel refuses the short SETREGSET with EFAULT and UML
panics at boot ("userspace - ptrace set fp regs failed, errno = 14"). This wrapper installs
a seccomp filter that fails those two requests with EIO, so UML's own probe at boot finds
no XSTATE support and it falls back to PTRACE_GETFPREGS/SETFPREGS (x87 and SSE state),
then execs UML. The filter is inherited by every UML helper process.

usage: uml-fp-fallback.py /usr/bin/linux.uml ARGS...
"""
import ctypes
import os
import struct
import sys

PTRACE_GETREGSET, PTRACE_SETREGSET, NT_X86_XSTATE = 0x4204, 0x4205, 0x202
SYS_PTRACE = 101  # x86_64
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
RET_ALLOW, RET_ERRNO_EIO = 0x7FFF0000, 0x00050000 | 5
LD_ABS, JEQ, RET = 0x20, 0x15, 0x06  # BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_RET|BPF_K


def ins(code, jt, jf, k):
    return struct.pack("HBBI", code, jt, jf, k)


# seccomp_data: nr at 0, args[0] at 16, args[2] at 32 (low 32 bits, little endian).
program = b"".join([
    ins(LD_ABS, 0, 0, 0),
    ins(JEQ, 0, 5, SYS_PTRACE),         # not ptrace -> allow
    ins(LD_ABS, 0, 0, 16),
    ins(JEQ, 1, 0, PTRACE_GETREGSET),   # -> check the regset
    ins(JEQ, 0, 2, PTRACE_SETREGSET),   # other requests -> allow
    ins(LD_ABS, 0, 0, 32),
    ins(JEQ, 1, 0, NT_X86_XSTATE),      # XSTATE -> EIO
    ins(RET, 0, 0, RET_ALLOW),
    ins(RET, 0, 0, RET_ERRNO_EIO),
])


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(program, len(program))
    prog = SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")
    os.execv(sys.argv[1], sys.argv[1:])


main()

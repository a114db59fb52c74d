//! The sandbox's seccomp filter: a classic BPF program bubblewrap installs
//! (`--seccomp FD`) on everything the sandbox runs, after its own set-up.
//!
//! It is a deny list. Install scripts legitimately run shells, compilers, Node,
//! downloads through the sink and native builds, so an allow list would break real
//! packages; what it refuses is what no install needs and what would reach past the
//! namespaces: the kernel's module, mount, key-ring, BPF, clock and reboot calls,
//! new namespaces (`unshare`, `setns`, and `clone` with a namespace flag or
//! `CLONE_UNTRACED`, whose child strace would not see; `clone3`,
//! whose flags a filter cannot read, answers `ENOSYS` so the C library falls back
//! to `clone`), and `io_uring`, whose reads and writes strace cannot see. Calls
//! of another architecture's ABI (x32 on x86-64, or any foreign `arch`) would
//! bypass the table by number, so they are refused outright.

use std::fmt::Write as _;

/// One refused call: its number on this architecture, its name, and why.
pub(crate) struct Denied {
    pub(crate) number: libc::c_long,
    pub(crate) name: &'static str,
    pub(crate) why: &'static str,
}

const fn denied(number: libc::c_long, name: &'static str, why: &'static str) -> Denied {
    Denied { number, name, why }
}

const MODULES: &str = "loads or removes kernel code";
const MOUNTS: &str = "changes what the file system shows";
const KEYS: &str = "reaches the kernel key ring";
const CLOCK: &str = "sets the system clock";
const HIDDEN_IO: &str = "does file and network I/O strace cannot see";

/// The calls the filter refuses with `EPERM`, for every architecture.
pub(crate) const DENIED: &[Denied] = &[
    denied(libc::SYS_init_module, "init_module", MODULES),
    denied(libc::SYS_finit_module, "finit_module", MODULES),
    denied(libc::SYS_delete_module, "delete_module", MODULES),
    denied(libc::SYS_kexec_load, "kexec_load", MODULES),
    denied(libc::SYS_kexec_file_load, "kexec_file_load", MODULES),
    denied(libc::SYS_bpf, "bpf", MODULES),
    denied(libc::SYS_mount, "mount", MOUNTS),
    denied(libc::SYS_umount2, "umount2", MOUNTS),
    denied(libc::SYS_pivot_root, "pivot_root", MOUNTS),
    denied(libc::SYS_chroot, "chroot", MOUNTS),
    denied(libc::SYS_open_tree, "open_tree", MOUNTS),
    denied(libc::SYS_move_mount, "move_mount", MOUNTS),
    denied(libc::SYS_fsopen, "fsopen", MOUNTS),
    denied(libc::SYS_fsconfig, "fsconfig", MOUNTS),
    denied(libc::SYS_fsmount, "fsmount", MOUNTS),
    denied(libc::SYS_fspick, "fspick", MOUNTS),
    denied(libc::SYS_mount_setattr, "mount_setattr", MOUNTS),
    denied(libc::SYS_swapon, "swapon", MOUNTS),
    denied(libc::SYS_swapoff, "swapoff", MOUNTS),
    denied(libc::SYS_quotactl, "quotactl", MOUNTS),
    denied(
        libc::SYS_open_by_handle_at,
        "open_by_handle_at",
        "opens files by handle, around the mount namespace",
    ),
    denied(libc::SYS_keyctl, "keyctl", KEYS),
    denied(libc::SYS_add_key, "add_key", KEYS),
    denied(libc::SYS_request_key, "request_key", KEYS),
    denied(libc::SYS_unshare, "unshare", "makes new namespaces"),
    denied(libc::SYS_setns, "setns", "enters other namespaces"),
    denied(libc::SYS_reboot, "reboot", "reboots the machine"),
    denied(libc::SYS_acct, "acct", "switches process accounting"),
    denied(libc::SYS_syslog, "syslog", "reads the kernel log"),
    denied(
        libc::SYS_perf_event_open,
        "perf_event_open",
        "observes other processes and the kernel",
    ),
    denied(
        libc::SYS_userfaultfd,
        "userfaultfd",
        "a kernel-exploit primitive",
    ),
    denied(libc::SYS_settimeofday, "settimeofday", CLOCK),
    denied(libc::SYS_clock_settime, "clock_settime", CLOCK),
    denied(libc::SYS_clock_adjtime, "clock_adjtime", CLOCK),
    denied(libc::SYS_adjtimex, "adjtimex", CLOCK),
    denied(libc::SYS_io_uring_setup, "io_uring_setup", HIDDEN_IO),
    denied(libc::SYS_io_uring_enter, "io_uring_enter", HIDDEN_IO),
    denied(libc::SYS_io_uring_register, "io_uring_register", HIDDEN_IO),
    denied(
        libc::SYS_process_vm_writev,
        "process_vm_writev",
        "writes into another process",
    ),
    denied(
        libc::SYS_fanotify_init,
        "fanotify_init",
        "watches the whole file system",
    ),
    denied(libc::SYS_vhangup, "vhangup", "hangs up the terminal"),
];

/// The refused calls as a Markdown table, for `docs/codes.md`.
#[must_use]
pub fn table() -> String {
    let mut text = String::from("| system call | refused because it |\n|---|---|\n");
    text.push_str(
        "| `clone` with a namespace flag or `CLONE_UNTRACED`, `clone3` (`ENOSYS`) | makes new namespaces, or a child strace would not follow |\n",
    );
    for call in DENIED {
        let _ = writeln!(text, "| `{}` | {} |", call.name, call.why);
    }
    text
}

/// The audit architecture the filter accepts (`AUDIT_ARCH_*` from linux/audit.h).
#[cfg(target_arch = "x86_64")]
const ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const ARCH: u32 = 0xC000_00B7;
/// x32 calls on x86-64 carry this bit in their number.
#[cfg(target_arch = "x86_64")]
const FOREIGN_ABI: Option<u32> = Some(0x4000_0000);
#[cfg(target_arch = "aarch64")]
const FOREIGN_ABI: Option<u32> = None;

// Classic BPF opcodes and the offsets of `struct seccomp_data`.
const LOAD_WORD: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JUMP_EQUAL: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JUMP_AT_LEAST: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const JUMP_ANY_BIT: u16 = 0x45; // BPF_JMP | BPF_JSET | BPF_K
const RETURN: u16 = 0x06; // BPF_RET | BPF_K
const NUMBER_AT: u32 = 0;
const ARCH_AT: u32 = 4;
/// The low half of the first argument (`clone`'s flags) on a little-endian machine.
#[cfg(target_endian = "little")]
const FIRST_ARGUMENT_AT: u32 = 16;
#[cfg(target_endian = "big")]
const FIRST_ARGUMENT_AT: u32 = 20;
/// `clone`'s flags refused: the namespace ones (`CLONE_NEWNS`, `NEWCGROUP`,
/// `NEWUTS`, `NEWIPC`, `NEWUSER`, `NEWPID`, `NEWNET`) and `CLONE_UNTRACED`, whose
/// child strace would not follow.
const REFUSED_CLONE_FLAGS: u32 = 0x7E02_0000 | 0x0080_0000;

/// One BPF instruction (`struct sock_filter`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Instruction {
    pub(crate) code: u16,
    pub(crate) jump_true: u8,
    pub(crate) jump_false: u8,
    pub(crate) value: u32,
}

const fn op(code: u16, jump_true: u8, jump_false: u8, value: u32) -> Instruction {
    Instruction {
        code,
        jump_true,
        jump_false,
        value,
    }
}

fn fail_with(errno: libc::c_int) -> u32 {
    libc::SECCOMP_RET_ERRNO | (u32::try_from(errno).unwrap_or(1) & libc::SECCOMP_RET_DATA)
}

fn refuse() -> u32 {
    fail_with(libc::EPERM)
}

fn number(call: libc::c_long) -> u32 {
    // Syscall numbers are small and non-negative on every supported target.
    u32::try_from(call).unwrap_or(u32::MAX)
}

/// The filter: a foreign architecture kills the process; a foreign ABI, a denied
/// call or a `clone` into new namespaces fails with `EPERM`, `clone3` with
/// `ENOSYS`; everything else is allowed.
pub(crate) fn program() -> Vec<Instruction> {
    let mut program = vec![
        op(LOAD_WORD, 0, 0, ARCH_AT),
        op(JUMP_EQUAL, 1, 0, ARCH),
        op(RETURN, 0, 0, libc::SECCOMP_RET_KILL_PROCESS),
        op(LOAD_WORD, 0, 0, NUMBER_AT),
    ];
    if let Some(bit) = FOREIGN_ABI {
        program.push(op(JUMP_AT_LEAST, 0, 1, bit));
        program.push(op(RETURN, 0, 0, refuse()));
    }
    program.extend([
        op(JUMP_EQUAL, 0, 1, number(libc::SYS_clone3)),
        op(RETURN, 0, 0, fail_with(libc::ENOSYS)),
        op(JUMP_EQUAL, 0, 4, number(libc::SYS_clone)),
        op(LOAD_WORD, 0, 0, FIRST_ARGUMENT_AT),
        op(JUMP_ANY_BIT, 0, 1, REFUSED_CLONE_FLAGS),
        op(RETURN, 0, 0, refuse()),
        op(RETURN, 0, 0, libc::SECCOMP_RET_ALLOW),
    ]);
    for call in DENIED {
        program.push(op(JUMP_EQUAL, 0, 1, number(call.number)));
        program.push(op(RETURN, 0, 0, refuse()));
    }
    program.push(op(RETURN, 0, 0, libc::SECCOMP_RET_ALLOW));
    program
}

/// The program as the bytes bubblewrap reads from its `--seccomp` descriptor.
pub(crate) fn bytes() -> Vec<u8> {
    program()
        .iter()
        .flat_map(|instruction| {
            let mut bytes = Vec::with_capacity(8);
            bytes.extend_from_slice(&instruction.code.to_ne_bytes());
            bytes.push(instruction.jump_true);
            bytes.push(instruction.jump_false);
            bytes.extend_from_slice(&instruction.value.to_ne_bytes());
            bytes
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the program the way the kernel does, on one call.
    fn verdict(program: &[Instruction], arch: u32, number: u32) -> u32 {
        verdict_with(program, arch, number, 0)
    }

    fn verdict_with(program: &[Instruction], arch: u32, number: u32, first: u32) -> u32 {
        let mut accumulator = 0;
        let mut at = 0;
        loop {
            let instruction = program[at];
            at += 1;
            match instruction.code {
                LOAD_WORD => {
                    accumulator = match instruction.value {
                        NUMBER_AT => number,
                        ARCH_AT => arch,
                        FIRST_ARGUMENT_AT => first,
                        other => panic!("loads an unknown offset {other}"),
                    }
                }
                JUMP_EQUAL | JUMP_AT_LEAST | JUMP_ANY_BIT => {
                    let taken = match instruction.code {
                        JUMP_EQUAL => accumulator == instruction.value,
                        JUMP_AT_LEAST => accumulator >= instruction.value,
                        _ => accumulator & instruction.value != 0,
                    };
                    at += usize::from(if taken {
                        instruction.jump_true
                    } else {
                        instruction.jump_false
                    });
                }
                RETURN => return instruction.value,
                other => panic!("unknown opcode {other:#x}"),
            }
        }
    }

    #[test]
    fn every_denied_call_fails_with_eperm_and_the_rest_run() {
        let program = program();
        for call in DENIED {
            assert_eq!(
                verdict(&program, ARCH, number(call.number)),
                libc::SECCOMP_RET_ERRNO | 1,
                "{} ({})",
                call.name,
                call.why
            );
        }
        for allowed in [
            libc::SYS_read,
            libc::SYS_openat,
            libc::SYS_execve,
            libc::SYS_clone,
            libc::SYS_ptrace,
            libc::SYS_connect,
        ] {
            assert_eq!(
                verdict(&program, ARCH, number(allowed)),
                libc::SECCOMP_RET_ALLOW
            );
        }
    }

    #[test]
    fn clone_runs_without_namespace_flags_and_clone3_falls_back() {
        let program = program();
        let clone = number(libc::SYS_clone);
        // What fork and pthread_create pass.
        let thread = u32::try_from(
            libc::CLONE_VM
                | libc::CLONE_FS
                | libc::CLONE_FILES
                | libc::CLONE_SIGHAND
                | libc::CLONE_THREAD
                | libc::CLONE_SYSVSEM
                | libc::CLONE_SETTLS
                | libc::CLONE_PARENT_SETTID
                | libc::CLONE_CHILD_CLEARTID,
        )
        .unwrap();
        for flags in [0x11 /* SIGCHLD */, thread] {
            assert_eq!(
                verdict_with(&program, ARCH, clone, flags),
                libc::SECCOMP_RET_ALLOW
            );
        }
        for namespace in [
            libc::CLONE_NEWUSER,
            libc::CLONE_NEWNS,
            libc::CLONE_NEWNET,
            libc::CLONE_NEWPID,
            libc::CLONE_NEWUTS,
            libc::CLONE_NEWIPC,
            libc::CLONE_NEWCGROUP,
            libc::CLONE_UNTRACED,
        ] {
            let flags = u32::try_from(namespace).unwrap() | 0x11;
            assert_eq!(
                verdict_with(&program, ARCH, clone, flags),
                libc::SECCOMP_RET_ERRNO | 1
            );
        }
        assert_eq!(
            verdict(&program, ARCH, number(libc::SYS_clone3)),
            libc::SECCOMP_RET_ERRNO | u32::try_from(libc::ENOSYS).unwrap()
        );
    }

    #[test]
    fn a_foreign_architecture_is_killed_and_a_foreign_abi_refused() {
        let program = program();
        assert_eq!(
            verdict(&program, 0x4000_0003, number(libc::SYS_read)),
            libc::SECCOMP_RET_KILL_PROCESS
        );
        if let Some(bit) = FOREIGN_ABI {
            assert_eq!(
                verdict(&program, ARCH, bit | number(libc::SYS_read)),
                libc::SECCOMP_RET_ERRNO | 1
            );
        }
    }

    #[test]
    fn the_bytes_are_eight_per_instruction_and_fit_the_kernel_limit() {
        let bytes = bytes();
        assert_eq!(bytes.len(), program().len() * 8);
        // BPF_MAXINSNS: the kernel refuses longer classic programs.
        assert!(program().len() <= 4096);
    }

    #[test]
    fn no_call_is_denied_twice() {
        let mut numbers: Vec<_> = DENIED.iter().map(|call| call.number).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), DENIED.len());
    }
}

// syscall-jail ALLOW_FILE PROGRAM [ARG...]: runs PROGRAM under the system-call rules that
// ariadne.service sets, so the tests can run the gateway as systemd would without systemd
// (CI has none). ALLOW_FILE names the allowed calls, one a line: the unit's
// `SystemCallFilter=@system-service` minus `~@privileged`, expanded by systemd-analyze
// (tests/package/syscall-allow-list). As with `SystemCallErrorNumber=EPERM`, any other call
// fails with EPERM. A second filter adds `MemoryDenyWriteExecute=yes` the way systemd
// implements it: no mapping both writable and executable, no mprotect/pkey_mprotect to
// executable, no shmat with SHM_EXEC. `NoNewPrivileges` comes with loading a filter.
// Exit 127 when the jail cannot be set up (before PROGRAM runs).
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <string>

namespace {

int fail(const std::string& what) {
    std::fprintf(stderr, "syscall-jail: %s\n", what.c_str());
    return 127;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) return fail("usage: syscall-jail ALLOW_FILE PROGRAM [ARG...]");
    std::ifstream list(argv[1]);
    if (!list) return fail(std::string("cannot read ") + argv[1]);

    scmp_filter_ctx allow = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (allow == nullptr) return fail("seccomp_init");
    int allowed = 0;
    for (std::string name; std::getline(list, name);) {
        if (name.empty()) continue;
        int nr = seccomp_syscall_resolve_name(name.c_str());
        if (nr == __NR_SCMP_ERROR) continue;  // not a call on this architecture
        if (seccomp_rule_add(allow, SCMP_ACT_ALLOW, nr, 0) != 0) continue;  // pseudo-call
        ++allowed;
    }
    if (allowed < 100) return fail("the allow list has only " + std::to_string(allowed) + " calls");

    scmp_filter_ctx wx = seccomp_init(SCMP_ACT_ALLOW);
    if (wx == nullptr) return fail("seccomp_init");
    const auto deny = SCMP_ACT_ERRNO(EPERM);
    bool ok = seccomp_rule_add(wx, deny, SCMP_SYS(mmap), 1,
                               SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC | PROT_WRITE,
                                       PROT_EXEC | PROT_WRITE)) == 0 &&
              seccomp_rule_add(wx, deny, SCMP_SYS(mprotect), 1,
                               SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC)) == 0 &&
              seccomp_rule_add(wx, deny, SCMP_SYS(pkey_mprotect), 1,
                               SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC)) == 0 &&
              seccomp_rule_add(wx, deny, SCMP_SYS(shmat), 1,
                               SCMP_A2(SCMP_CMP_MASKED_EQ, SHM_EXEC, SHM_EXEC)) == 0;
    if (!ok) return fail("cannot build the MemoryDenyWriteExecute filter");

    if (seccomp_load(wx) != 0 || seccomp_load(allow) != 0) return fail("seccomp_load");
    execv(argv[2], argv + 2);
    return fail(std::string("cannot run ") + argv[2] + ": " + std::to_string(errno));
}

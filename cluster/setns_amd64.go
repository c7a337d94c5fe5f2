package cluster

// sysSetns is setns(2)'s number; the syscall package does not define it.
const sysSetns = 308

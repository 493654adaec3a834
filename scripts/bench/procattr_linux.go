package main

import "syscall"

// dieWithParent makes a child receive SIGKILL if the harness dies before
// it closes them, so no daemon outlives a crashed benchmark.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

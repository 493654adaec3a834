//go:build !linux

package main

import "syscall"

// dieWithParent has no portable equivalent off Linux; children are closed
// by the harness. (RSS figures need Linux's /proc anyway.)
func dieWithParent() *syscall.SysProcAttr { return nil }

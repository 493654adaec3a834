package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The fetch rows say how fast; the CPU rows say why. On two cores a
// transfer whose processes spend C CPU-seconds per GiB in all can go no
// faster than 2/C GiB/s, whatever the protocol, so these rows show what
// each side of a fetch costs against the bare stream's sender and
// receiver.

// userHZ is the unit of the times in /proc/PID/stat: USER_HZ, 100 on
// every Linux architecture Go runs on.
const userHZ = 100

// procCPU is the user plus system time pid has used so far.
func procCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu of pid %d: %w", pid, err)
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from after its closing parenthesis, utime and stime being the
	// 14th and 15th of the whole line.
	s := string(raw)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return 0, fmt.Errorf("cpu of pid %d: malformed stat", pid)
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("cpu of pid %d: malformed stat", pid)
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cpu of pid %d: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// selfCPU is the user plus system time this process has used so far: the
// bench's own client work (reading and hashing a body).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter measures the CPU that processes use across one transfer.
type cpuMeter struct {
	pids  []int
	start []time.Duration
	self  time.Duration
}

// startCPU notes the CPU used so far by pids and by this process.
func startCPU(pids ...int) (*cpuMeter, error) {
	m := &cpuMeter{pids: pids, self: selfCPU()}
	for _, p := range pids {
		c, err := procCPU(p)
		if err != nil {
			return nil, err
		}
		m.start = append(m.start, c)
	}
	return m, nil
}

// stop returns the CPU each pid used since startCPU, in order, then this
// process's own.
func (m *cpuMeter) stop() ([]time.Duration, error) {
	out := make([]time.Duration, 0, len(m.pids)+1)
	for i, p := range m.pids {
		c, err := procCPU(p)
		if err != nil {
			return nil, err
		}
		out = append(out, c-m.start[i])
	}
	return append(out, selfCPU()-m.self), nil
}

// fetchCPU is what one fetch cost each side, in CPU-seconds.
type fetchCPU struct {
	serving, fetching, client time.Duration
}

// perGiB is d for n bytes, scaled to CPU-seconds per GiB.
func perGiB(d time.Duration, n int64) float64 { return d.Seconds() / (float64(n) / (1 << 30)) }

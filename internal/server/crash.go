package server

import "os"

// crashEnv names a crash point for the crash tests: the process kills
// itself (SIGKILL, nothing deferred runs) the first time it reaches that
// point, so that a test can stop it exactly between two steps that a
// real crash could separate, which a kill -9 from outside hits only by
// luck. Unset in production, where crashPoint costs a string compare.
const crashEnv = "VIGIL_TEST_CRASH_AT"

var crashAt = os.Getenv(crashEnv)

func crashPoint(name string) {
	if crashAt != "" && crashAt == name {
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Kill()
		}
		select {} // the signal is on its way
	}
}

package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/stripesql/stripesql/server"
)

// versionString describes this build: the module version the go command
// stamped into it ("(devel)" for a build from a checkout), the VCS revision
// when it was recorded, the Go version, and the MySQL version the server
// reports to clients.
func versionString() string {
	version, revision := "(devel)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = " " + s.Value
			}
		}
	}
	return fmt.Sprintf("stripesql %s%s (%s, MySQL protocol as %s)", version, revision, runtime.Version(), server.ServerVersion)
}

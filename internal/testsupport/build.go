package testsupport

import (
	"fmt"
	"os/exec"
	"path/filepath"
)

// GoBuild builds the command pkg (an import path) as dir/name and
// returns that path. -buildvcs=auto as a user's go build has it (GOFLAGS
// may say otherwise).
func GoBuild(dir, name, pkg string) (string, error) {
	bin := filepath.Join(dir, name)
	out, err := exec.Command("go", "build", "-buildvcs=auto", "-o", bin, pkg).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build %s: %v: %s", pkg, err, out)
	}
	return bin, nil
}

package template

import (
	"errors"
	"os"
	"path/filepath"
)

// RepoRoot is the repository's root: the nearest folder at or above the
// working directory that holds both template.yaml and go.mod. Tests run in
// their package's folder, so every test finds the root this way; requiring
// the template too skips a nested module's own go.mod (infra/bench).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isFile(filepath.Join(dir, "template.yaml")) && isFile(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("template: no folder with template.yaml and go.mod above the working directory")
		}
		dir = parent
	}
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

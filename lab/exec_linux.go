package lab

import (
	"fmt"
	"os/exec"
)

// lookPath finds a program to run in a node, before the thread enters it.
func lookPath(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("lab: %w", err)
	}
	return p, nil
}

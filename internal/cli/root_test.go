package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVersionManCompletion(t *testing.T) {
	code, out, _ := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "sonde ") {
		t.Errorf("version: %d %q", code, out)
	}
	dir := t.TempDir()
	if code, _, errs := run(t, "man", dir); code != 0 {
		t.Fatalf("man: %d %s", code, errs)
	}
	for _, page := range []string{"sonde.1", "sonde-lab-up.1", "sonde-sr.1", "sonde-ping.1"} {
		b, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil || !strings.Contains(string(b), ".TH") {
			t.Errorf("man page %s: %v", page, err)
		}
	}
	code, out, _ = run(t, "completion", "bash")
	if code != 0 || !strings.Contains(out, "complete") || !strings.Contains(out, "sonde") {
		t.Errorf("completion bash: %d, %d bytes", code, len(out))
	}
}

func TestUnknownCommandIsUsage(t *testing.T) {
	code, _, errs := run(t, "nosuch")
	if code != ExitUsage || !strings.Contains(errs, `unknown command "nosuch"`) {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

// run runs the CLI in-process and returns its exit status and output.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

//go:build linux

package cli

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sonde/lab/labtest"
)

func sondeNamespaces() []string {
	p, _ := filepath.Glob("/run/netns/sonde-*")
	return p
}

func TestLabBadInputIsExit2AndCreatesNothing(t *testing.T) {
	before := sondeNamespaces()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"lab", "up", "nosuch"}, `unknown topology "nosuch"`},
		{[]string{"lab", "up", "chain", "--loss", "101"}, "loss 101% is outside 0–100"},
		{[]string{"lab", "up", "pair", "--loss", "-3"}, "outside 0–100"},
		{[]string{"lab", "up", "pair", "--drop", "80,70000"}, `"70000" is not a port`},
		{[]string{"lab", "up", "chain", "--silent", "r9"}, "--silent r9"},
		{[]string{"lab", "up", "pair", "--services", "ssh:22,gopher:70"}, `unknown service "gopher"`},
		{[]string{"lab", "up", "pair", "--icmp-ratelimit", "soon"}, "--icmp-ratelimit"},
		{[]string{"lab", "up", "pair", "--loss-at", "nobody=5"}, `no node "nobody"`},
		{[]string{"lab", "up", "pair", "--routers", "x"}, "invalid argument"},
	} {
		code, _, stderr := run(t, tc.args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != ExitUsage || !strings.Contains(lines[0], tc.want) || len(lines) > 2 {
			t.Errorf("sonde %s: exit %d, stderr %q; want exit 2 and one line with %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
	if after := sondeNamespaces(); len(after) != len(before) {
		t.Errorf("bad input created namespaces: %v", after)
	}
}

// startLab starts `sonde lab up ARGS…` and waits until it says the lab is
// up; it returns the process and the lab's name.
func startLab(t *testing.T, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(labtest.Binary(t), append([]string{"lab", "up"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	done := make(chan string, 1)
	go func() {
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) >= 4 && f[0] == "lab" && f[2] == "is" && f[3] == "up." {
				done <- f[1]
				break
			}
		}
		for sc.Scan() {
		}
	}()
	select {
	case id := <-done:
		t.Cleanup(func() { exec.Command(labtest.Binary(t), "lab", "down", id).Run() })
		return cmd, id
	case <-time.After(30 * time.Second):
		t.Fatal("sonde lab up did not come up in 30s")
	}
	return nil, ""
}

func sonde(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(labtest.Binary(t), args...).CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func TestLabUpExecDownLeavesNothing(t *testing.T) {
	labtest.RequirePrivileges(t)
	_, id := startLab(t, "chain", "--routers", "6", "--loss", "5", "--name", "t"+randomSuffix())
	out, code := sonde(t, "lab", "exec", "--lab", id, "client", "--", "traceroute", "-n", "-q", "1", "198.18.200.1")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 8 || !strings.Contains(lines[7], "198.18.200.1") && !strings.Contains(lines[7], "*") {
		t.Errorf("traceroute through chain: exit %d, want 7 hops:\n%s", code, out)
	}
	out, _ = sonde(t, "lab", "exec", "--lab", id, "client", "--", "ping", "-q", "-c", "200", "-i", "0.002", "-W", "1", "198.18.200.1")
	if !strings.Contains(out, "200 packets transmitted") || strings.Contains(out, " 0% packet loss") || strings.Contains(out, "100% packet loss") {
		t.Errorf("ping through 5%% loss: want some loss but not all:\n%s", out)
	}
	if out, code := sonde(t, "lab", "down", id); code != 0 || !strings.Contains(out, "lab "+id+" is down") {
		t.Fatalf("lab down: %d %s", code, out)
	}
	assertNothingLeft(t, id)
}

func TestLabSIGKILLThenDown(t *testing.T) {
	labtest.RequirePrivileges(t)
	cmd, id := startLab(t, "chain", "--routers", "2", "--loss", "1", "--name", "k"+randomSuffix())
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if paths, _ := filepath.Glob("/run/netns/sonde-" + id + "-*"); len(paths) == 0 {
		t.Fatal("the killed lab's namespaces are already gone: nothing to test")
	}
	out, _ := sonde(t, "lab", "ls")
	if !strings.Contains(out, id) || !strings.Contains(out, "owner gone") {
		t.Errorf("lab ls after SIGKILL does not show %s as left over:\n%s", id, out)
	}
	if out, code := sonde(t, "lab", "down", id); code != 0 {
		t.Fatalf("lab down: %d %s", code, out)
	}
	assertNothingLeft(t, id)
}

func TestLabSIGTERMTearsDown(t *testing.T) {
	labtest.RequirePrivileges(t)
	cmd, id := startLab(t, "pair", "--name", "s"+randomSuffix())
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("lab up after SIGTERM: %v", err)
	}
	assertNothingLeft(t, id)
}

func assertNothingLeft(t *testing.T, id string) {
	t.Helper()
	out, _ := exec.Command("ip", "netns", "list").CombinedOutput()
	if strings.Contains(string(out), "sonde-"+id) {
		t.Errorf("ip netns list still shows the lab:\n%s", out)
	}
	out, _ = exec.Command("ip", "-o", "link").CombinedOutput()
	if strings.Contains(string(out), "sonde-"+id) {
		t.Errorf("ip link still shows the lab:\n%s", out)
	}
	if out, err := exec.Command("nft", "list", "tables").CombinedOutput(); err == nil && strings.Contains(string(out), "sonde") {
		t.Errorf("nft list tables shows sonde's tables:\n%s", out)
	}
	if _, err := os.Stat("/run/sonde/labs/" + id + ".json"); !os.IsNotExist(err) {
		t.Errorf("state file left: %v", err)
	}
}

// TestLabWithoutPrivileges runs sonde as an unprivileged user: through a
// user namespace the demo lab works; with user namespaces refused it is one
// clear line and exit status 2.
func TestLabWithoutPrivileges(t *testing.T) {
	labtest.RequirePrivileges(t)
	dir, err := os.MkdirTemp("", "sonde-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "sonde")
	data, err := os.ReadFile(labtest.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	asNobody := func(args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return out.String(), errb.String(), code
	}
	before := sondeNamespaces()
	out, errs, code := asNobody("lab", "demo")
	if code != 0 || !strings.Contains(out, "the lab is torn down") {
		t.Errorf("lab demo as nobody through a user namespace: exit %d\n%s\n%s", code, out, errs)
	}

	// A user namespace whose own children are capped at zero stands for a
	// kernel that refuses user namespaces.
	cmd := exec.Command("sh", "-c", "echo 0 > /proc/sys/user/max_user_namespaces && exec setpriv --reuid 65534 --regid 65534 --clear-groups "+bin+" lab up pair")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}}, GidMappingsEnableSetgroups: true}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err = cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	errs = errb.String()
	if code != ExitUsage || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, "needs root, or user namespaces") {
		t.Errorf("lab up as nobody without user namespaces: exit %d, stderr %q; want 2 and one line", code, errs)
	}
	if after := sondeNamespaces(); len(after) != len(before) {
		t.Errorf("namespaces before %v, after %v", before, after)
	}
}

func randomSuffix() string {
	return strings.ToLower(strings.TrimLeft(time.Now().Format(".000000"), ".")[:5])
}

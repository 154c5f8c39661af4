package cli

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func init() { register(newManCmd) } // unnamed: man documents the whole tree

func newManCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "man DIR",
		Short: "Write sonde's man pages (section 1) into DIR",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			n, err := writeManTree(cmd.Root(), dir)
			if err != nil {
				return fmt.Errorf("man: %w", err)
			}
			fmt.Fprintf(e.stdout, "%d man pages written to %s\n", n, dir)
			return nil
		},
	}
}

// writeManTree writes a roff page for cmd and each of its visible
// subcommands, named as man expects (sonde-lab-up.1). It is written here
// rather than with cobra/doc, whose markdown renderer costs every start of
// sonde half a millisecond of package initialisation.
func writeManTree(cmd *cobra.Command, dir string) (int, error) {
	n := 0
	for _, c := range cmd.Commands() {
		if !c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand() {
			continue
		}
		m, err := writeManTree(c, dir)
		if err != nil {
			return n, err
		}
		n += m
	}
	name := strings.ReplaceAll(cmd.CommandPath(), " ", "-")
	f, err := os.Create(filepath.Join(dir, name+".1"))
	if err != nil {
		return n, err
	}
	w := bufio.NewWriter(f)
	writeMan(w, cmd)
	if err := w.Flush(); err != nil {
		f.Close()
		return n, err
	}
	return n + 1, f.Close()
}

// roff escapes text for a roff body line.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, ".") || strings.HasPrefix(line, "'") {
			line = `\&` + line
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

func writeMan(w *bufio.Writer, cmd *cobra.Command) {
	name := strings.ReplaceAll(cmd.CommandPath(), " ", "-")
	fmt.Fprintf(w, ".TH %q 1 \"\" %q \"sonde manual\"\n", strings.ToUpper(name), "sonde "+buildVersion())
	fmt.Fprintf(w, ".SH NAME\n%s \\- %s\n", name, roff(cmd.Short))
	fmt.Fprintf(w, ".SH SYNOPSIS\n.B %s\n", roff(cmd.UseLine()))
	long := cmd.Long
	if long == "" {
		long = cmd.Short
	}
	fmt.Fprintf(w, ".SH DESCRIPTION\n.nf\n%s\n.fi\n", roff(long))
	flags := func(title string, fs *pflag.FlagSet) {
		first := true
		fs.VisitAll(func(f *pflag.Flag) {
			if f.Hidden {
				return
			}
			if first {
				fmt.Fprintf(w, ".SH %s\n", title)
				first = false
			}
			spec := "\\-\\-" + f.Name
			if f.Shorthand != "" {
				spec = "\\-" + f.Shorthand + ", " + spec
			}
			if f.Value.Type() != "bool" {
				spec += " " + f.Value.Type()
			}
			fmt.Fprintf(w, ".TP\n\\fB%s\\fR\n%s", spec, roff(f.Usage))
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" && f.DefValue != "0" {
				fmt.Fprintf(w, " (default %s)", roff(f.DefValue))
			}
			fmt.Fprintln(w)
		})
	}
	flags("OPTIONS", cmd.NonInheritedFlags())
	flags("OPTIONS INHERITED FROM PARENT COMMANDS", cmd.InheritedFlags())
	if cmd.Example != "" {
		fmt.Fprintf(w, ".SH EXAMPLES\n.nf\n%s\n.fi\n", roff(cmd.Example))
	}
	var see []string
	if cmd.HasParent() {
		see = append(see, strings.ReplaceAll(cmd.Parent().CommandPath(), " ", "-")+"(1)")
	}
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			see = append(see, strings.ReplaceAll(c.CommandPath(), " ", "-")+"(1)")
		}
	}
	if len(see) > 0 {
		fmt.Fprintf(w, ".SH SEE ALSO\n%s\n", strings.Join(see, ", "))
	}
}

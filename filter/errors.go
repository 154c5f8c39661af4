package filter

import "fmt"

// SyntaxError reports an expression that cannot be compiled: a grammar error
// ("expected an address") or a meaning error ("port 70000 > 65535"). Offset
// is the byte offset in Expr of the token at fault (len(Expr) for "at the
// end").
type SyntaxError struct {
	Expr   string
	Offset int
	Msg    string
}

// Error returns a one-line message naming the column (1-based).
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("filter: %s at column %d of %q", e.Msg, e.Offset+1, e.Expr)
}

// Caret returns the expression and, under it, a caret at the offending
// column, for display on a terminal.
func (e *SyntaxError) Caret() string {
	off := e.Offset
	if off > len(e.Expr) {
		off = len(e.Expr)
	}
	if off < 0 {
		off = 0
	}
	pad := []byte(e.Expr[:off])
	for i, c := range pad {
		if c != '\t' {
			pad[i] = ' '
		}
	}
	return e.Expr + "\n" + string(pad) + "^"
}

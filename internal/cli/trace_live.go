package cli

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	tea "charm.land/bubbletea/v2"

	"sonde/trace"
)

// roundMsg carries one finished round of --live to the view.
type roundMsg struct {
	res *trace.Result
	err error
}

// liveModel is mtr's live view: the report table, redrawn after each round.
type liveModel struct {
	host, dst string
	first     int
	r         rounds
	err       error
	names     trace.Enricher
	ctx       context.Context
}

func (m *liveModel) Init() tea.Cmd { return nil }

func (m *liveModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch msg.String() {
		case "q", "ctrl+c", "esc":
			return m, tea.Quit
		}
	case roundMsg:
		if msg.res != nil {
			if m.r.n == 0 {
				enrich(m.ctx, msg.res.Hops, m.names)
			}
			m.r.add(msg.res)
		}
		if msg.err != nil {
			m.err = msg.err
			return m, tea.Quit
		}
	}
	return m, nil
}

func (m *liveModel) View() tea.View {
	var b strings.Builder
	fmt.Fprintf(&b, "sonde trace %s (%s) — round %d — q to quit\n\n", m.host, m.dst, m.r.n)
	m.r.table(&b, m.first)
	return tea.NewView(b.String())
}

// runLive probes rounds until the user quits, showing the statistics.
func runLive(ctx context.Context, e *env, host string, dst netip.Addr, cfg *trace.Config, f *traceFlags, names trace.Enricher) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := &liveModel{host: host, dst: dst.String(), first: cfg.FirstTTL, names: names, ctx: ctx}
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithOutput(e.stdout), tea.WithInput(e.stdin))
	done := make(chan struct{})
	go func() {
		defer close(done)
		c := *cfg
		for i := 0; ctx.Err() == nil; i++ {
			if i > 0 && !sleepCtx(ctx, f.interval) {
				return
			}
			res, err := trace.Run(ctx, dst, &c, nil)
			if res != nil && res.Reached && len(res.Hops) > 0 {
				c.MaxTTL, c.NoHint = res.Hops[len(res.Hops)-1].TTL, true
			}
			if ctx.Err() != nil {
				return
			}
			p.Send(roundMsg{res, err})
			if err != nil {
				return
			}
		}
	}()
	_, err := p.Run()
	cancel()
	<-done
	if errors.Is(err, tea.ErrProgramKilled) || errors.Is(err, context.Canceled) {
		err = nil
	}
	if err == nil && m.err != nil {
		return traceError(m.err)
	}
	if err == nil {
		// Leave the last table on the terminal, as mtr does.
		m.r.table(e.stdout, cfg.FirstTTL)
	}
	return err
}

package progress

import "github.com/cheggaaa/pb/v3"

// Group draws several bars at once, one line each (ingest shows one per
// source it is reading concurrently); single bars started with Bars.Start
// would overwrite each other's line.
type Group struct {
	pool *pb.Pool
}

// Group starts a group of bars; it draws nothing when bars are off.
func (bs *Bars) Group() *Group {
	if bs == nil || !bs.on {
		return &Group{}
	}
	p := pb.NewPool()
	p.Output = bs.out
	if err := p.Start(); err != nil {
		return &Group{}
	}
	return &Group{pool: p}
}

// Start adds a bar of total units (bytes when isBytes) named prefix.
func (g *Group) Start(prefix string, total int64, isBytes bool) *Bar {
	if g == nil || g.pool == nil {
		return &Bar{}
	}
	b := pb.New64(total)
	if isBytes {
		b.Set(pb.Bytes, true)
	}
	b.Set("prefix", prefix+" ")
	g.pool.Add(b)
	return &Bar{b: b}
}

// Stop draws the bars a last time and releases the terminal.
func (g *Group) Stop() {
	if g != nil && g.pool != nil {
		_ = g.pool.Stop()
	}
}

package progress

// Group draws several bars at once, one line each (ingest shows one per
// source it is reading concurrently); single bars started with Bars.Start
// would overwrite each other's line. Bars may join the group at any time
// until Stop.
type Group struct {
	r *renderer
}

// Group starts a group of bars; it draws nothing when bars are off.
func (bs *Bars) Group() *Group {
	if bs == nil || !bs.on {
		return &Group{}
	}
	r := newRenderer(bs.out, bs.size)
	r.start()
	return &Group{r: r}
}

// Start adds a bar of total units (bytes when isBytes, else rows) named
// prefix. Its Finish freezes its line; the group draws it until Stop.
func (g *Group) Start(prefix string, total int64, isBytes bool) *Bar {
	if g == nil || g.r == nil {
		return &Bar{}
	}
	return &Bar{b: g.r.add(prefix, total, isBytes)}
}

// Stop draws the bars a last time and stops drawing.
func (g *Group) Stop() {
	if g != nil && g.r != nil {
		g.r.stop()
	}
}

package stats

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chimed/chimed/internal/workspace"
)

// chromium finds a Chromium binary and a CJK font, or skips the test with
// what to install.
func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	var bin string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("no Chromium on PATH: apt-get install chromium fonts-noto-cjk to check stats.html in a browser")
	}
	if out, err := exec.Command("fc-list", ":lang=zh", "family").Output(); err != nil || len(bytes.TrimSpace(out)) == 0 {
		t.Skip("no CJK font (fc-list :lang=zh is empty): apt-get install fonts-noto-cjk, or Chinese renders as boxes")
	}
	return bin
}

// browse runs headless Chromium on page with every network route closed:
// a proxy on a closed port, every host name unresolvable, and a NetLog of
// whatever it tried. It returns stdout (the DOM with --dump-dom) and the
// NetLog's text.
func browse(t *testing.T, bin, page string, args ...string) (stdout, netlog string) {
	t.Helper()
	dir := t.TempDir()
	logPath := filepath.Join(dir, "netlog.json")
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir=" + filepath.Join(dir, "profile"), "--proxy-server=http://127.0.0.1:9",
		"--host-resolver-rules=MAP * ~NOTFOUND", "--log-net-log=" + logPath}, args...)
	all = append(all, "file://"+page)
	cmd := exec.Command(bin, all...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, errOut.String())
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("no NetLog: %v", err)
	}
	return out.String(), string(b)
}

// pageRequests lists the URLs a page asked for in a NetLog. Chromium's own
// background requests carry the initiator "not an origin"; a file://
// page's carry its opaque origin, "null". A NetLog cut short (Chromium
// killed) lacks its closing brackets, which are added back.
func pageRequests(t *testing.T, netlog string) []string {
	t.Helper()
	var log struct {
		Events []struct {
			Params map[string]any `json:"params"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(netlog), &log); err != nil {
		trimmed := strings.TrimRight(strings.TrimSpace(netlog), ",")
		if err2 := json.Unmarshal([]byte(trimmed+"]}"), &log); err2 != nil {
			t.Fatalf("NetLog: %v", err)
		}
	}
	var out []string
	for _, e := range log.Events {
		init, ok1 := e.Params["initiator"].(string)
		url, ok2 := e.Params["url"].(string)
		if ok1 && ok2 && init != "not an origin" {
			out = append(out, url)
		}
	}
	return out
}

// TestChromiumRenders opens the fixture's stats.html in headless Chromium
// with CJK fonts: the screenshot is a drawn page (not blank), the DOM has
// every section with its content, and the page asks the network for
// nothing (checked against a control page that does).
func TestChromiumRenders(t *testing.T) {
	bin := chromium(t)
	ws := workspace.Dir(t.TempDir())
	writeFixture(t, ws)
	if _, err := Run(ws, Options{Tokenizer: runeTokens{}, TokenizerFrom: "a test tokenizer"}); err != nil {
		t.Fatal(err)
	}
	page, err := filepath.Abs(ws.Report("stats.html"))
	if err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if m := externalRef.FindString(string(html)); m != "" {
		t.Errorf("stats.html refers outside itself: %q", m)
	}

	// The network check must be able to fail: a page with a remote image
	// shows up in the NetLog.
	control := filepath.Join(t.TempDir(), "control.html")
	if err := os.WriteFile(control, []byte(`<html><body><img src="http://example.invalid/x.png"></body></html>`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, netlog := browse(t, bin, control, "--dump-dom"); len(pageRequests(t, netlog)) == 0 {
		t.Fatal("the NetLog check missed a control page's remote image: it cannot vouch for stats.html")
	}

	dom, netlog := browse(t, bin, page, "--dump-dom")
	if i := strings.Index(dom, `<section id="perplexity">`); i < 0 || !strings.Contains(dom[i:], "pref-noise") {
		t.Error("the perplexity section does not show the fixture's noise row")
	} else if sec := dom[i : i+strings.Index(dom[i:], "</section>")]; strings.Contains(sec, "13812345678") || !strings.Contains(sec, "[PHONE]") {
		t.Error("the perplexity section shows a phone number unmasked")
	}
	if reqs := pageRequests(t, netlog); len(reqs) > 0 {
		t.Errorf("stats.html made network requests: %q", reqs)
	}
	for _, s := range Sections {
		i := strings.Index(dom, `<section id="`+s.ID+`">`)
		if i < 0 {
			t.Errorf("the rendered page has no %s section", s.ID)
			continue
		}
		body := dom[i:]
		body = body[:strings.Index(body, "</section>")]
		if !strings.Contains(body, "<h2>"+esc(s.Title)+"</h2>") {
			t.Errorf("section %s has no heading %q", s.ID, s.Title)
		}
		// Every section the fixture feeds must show something.
		if strings.Contains(body, `<p class="muted">no data`) {
			t.Errorf("section %s says no data", s.ID)
		}
	}
	for _, want := range []string{`class="sample"`, "[PHONE]", "matched row", "cc-by-4.0", "Trainer tokens per stage",
		"rows per cluster", "Han share of letters and digits", "心内科", "removed from ↓",
		// The perplexity section names its model, charts with labelled axes
		// and shows its extreme rows with their scores, masked.
		"character 4-gram, modified Kneser–Ney, trained on", "perplexity per character", "highest-perplexity rows",
		"lowest-perplexity rows", "perplexity <b>"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}

	shot := filepath.Join(t.TempDir(), "stats.png")
	browse(t, bin, page, "--screenshot="+shot, "--window-size=1400,2400")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	mean, sd, inked := luminance(img)
	t.Logf("screenshot %v: mean luminance %.1f, sd %.1f, %.1f%% inked pixels", img.Bounds().Size(), mean, sd, inked*100)
	if sd < 15 || inked < 0.02 {
		t.Errorf("the screenshot looks blank: luminance sd %.1f, %.1f%% inked pixels", sd, inked*100)
	}
}

// luminance is the mean and standard deviation of an image's pixel
// luminance (0–255) and the share of pixels darker than near-white.
func luminance(img image.Image) (mean, sd, inked float64) {
	b := img.Bounds()
	var sum, sq float64
	var n, dark int
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			l := (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)) / 257
			sum += l
			sq += l * l
			n++
			if l < 200 {
				dark++
			}
		}
	}
	mean = sum / float64(n)
	return mean, math.Sqrt(max(sq/float64(n)-mean*mean, 0)), float64(dark) / float64(n)
}

package r

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// gapServer is a scripted serve for a sink: frames 0..4, a history gap
// 5..7 announced, frames 8..9, frames 12..13 (10..11 missing without
// announcement), a restart into epoch 0000beef at seq 0, frames 0..2. Two
// channels "left" and "right"; sample instant k = seq*10+i carries k, -k.
// Later connections (the sink resuming) get a hello and nothing more.
func gapServer(t *testing.T) string {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ctx := ws.CloseRead(r.Context())
		send := func(v any) {
			b, _ := json.Marshal(v)
			ws.Write(ctx, websocket.MessageText, b)
		}
		frames := func(from, to uint32) {
			for s := from; s <= to; s++ {
				ws.Write(ctx, websocket.MessageBinary, gapFrame(s))
			}
		}
		dev := wsproto.Device{Name: "t", Rate: 1000, Channels: 2, SampleType: "i16", FrameSamples: 10,
			ChannelInfo: []frame.Channel{{Name: "left"}, {Name: "right"}}}
		send(wsproto.Hello{Type: wsproto.TypeHello, Protocol: 1, Server: "test", Channel: "t", Epoch: "0000cafe",
			Format: "binary", DeviceState: wsproto.StateUp, Device: &dev, Rate: 1000, Channels: 2, SampleType: "i16"})
		if n++; n == 1 {
			frames(0, 4)
			send(wsproto.Gap{Type: wsproto.TypeGap, From: 5, To: 7, Count: 3, Reason: wsproto.GapHistory, Epoch: "0000cafe"})
			frames(8, 9)
			frames(12, 13)
			send(wsproto.Status{Type: wsproto.TypeStatus, State: wsproto.StateRestart, Seq: 0, Epoch: "0000beef"})
			frames(0, 2)
		}
		<-ctx.Done()
	}))
	t.Cleanup(srv.Close)
	return strings.Replace(srv.URL, "http", "ws", 1) + "/ws"
}

func gapFrame(seq uint32) []byte {
	f := frame.Frame{Seq: seq, TimeUS: uint64(seq) * 10000, Rate: 1000, Channels: 2, SampleType: frame.I16,
		Count: 10, Data: make([]byte, 40)}
	for i := range 10 {
		k := int64(seq)*10 + int64(i)
		f.PutInt(i, 0, k)
		f.PutInt(i, 1, -k)
	}
	b, _ := frame.AppendFrame(nil, &f)
	return b
}

// checkGaps checks what R read from the gap sink: 120 rows (frames 0..4,
// 8..9, 12..13 of the first epoch, 0..2 of the second) and the events at
// the rows where the sink's lines put them.
func checkGaps(t *testing.T, dir string) {
	t.Helper()
	rows := readCSV(t, filepath.Join(dir, "gaps-data.csv"))
	var want []string
	for _, r := range [][2]int{{0, 50}, {80, 20}, {120, 20}, {0, 30}} {
		for k := r[0]; k < r[0]+r[1]; k++ {
			want = append(want, fmt.Sprintf("%d,%d", k, -k))
		}
	}
	var got []string
	for _, r := range rows[1:] {
		got = append(got, strings.Join(r, ","))
	}
	if strings.Join(rows[0], ",") != "left,right" || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("R read columns %v and rows\n%v\nwant left,right and\n%v", rows[0], got, want)
	}
	ev := readCSV(t, filepath.Join(dir, "gaps-events.csv"))
	var lines []string
	for _, r := range ev[1:] {
		lines = append(lines, strings.Join(r, " "))
	}
	wantEv := []string{
		"51 gap 5 7 3 NA history 0000cafe",
		"71 gap 10 11 2 NA network 0000cafe",
		"91 restart NA NA NA NA NA 0000beef",
	}
	if strings.Join(ev[0], " ") != "row type from to frames samples reason epoch" ||
		strings.Join(lines, "\n") != strings.Join(wantEv, "\n") {
		t.Fatalf("R's events:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(wantEv, "\n"))
	}
	t.Logf("R read 120 rows and the gap and restart lines at rows 51, 71, 91")
}

// readCSV reads a csv R wrote: a header and at least one row.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("R did not write %s: %v", filepath.Base(path), err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("%s: %v (%d records)", filepath.Base(path), err, len(recs))
	}
	return recs
}

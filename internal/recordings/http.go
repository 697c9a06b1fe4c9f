package recordings

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/wsbridge/wsbridge/internal/relay"
)

// Mux is where Mount puts the endpoints: relay.Server.Handle, which
// guards them (Host, token, Origin).
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// filesPath is where the files are downloaded: filesPath + NAME.
const filesPath = "/api/recordings/files/"

// Mount puts the recorder's endpoints on mux:
//
//	POST   /api/channels/{name}/record       start (body: StartRequest) -> 201 Recording
//	DELETE /api/channels/{name}/record       stop -> 200 Recording (files complete)
//	POST   /api/channels/{name}/record/stop  the same, for clients without DELETE
//	GET    /api/recordings[?channel=NAME]    List: {enabled, dir, recordings}
//	GET    /api/recordings/files/{file}      a file this serve wrote (read-only)
//
// Errors are JSON {"error": "..."} with 400, 403 (disabled), 404, 409
// (busy: also "recording", the running one) or 503 (stopping).
func (m *Manager) Mount(mux Mux) {
	mux.Handle("POST /api/channels/{name}/record", http.HandlerFunc(m.serveStart))
	mux.Handle("DELETE /api/channels/{name}/record", http.HandlerFunc(m.serveStop))
	mux.Handle("POST /api/channels/{name}/record/stop", http.HandlerFunc(m.serveStop))
	mux.Handle("GET /api/recordings", http.HandlerFunc(m.serveList))
	mux.Handle("GET "+filesPath+"{file}", http.HandlerFunc(m.serveFile))
}

// List is the GET /api/recordings document.
type List struct {
	Enabled    bool        `json:"enabled"`
	Why        string      `json:"why,omitempty"` // when disabled: how to enable it
	Dir        string      `json:"dir"`
	Recordings []Recording `json:"recordings"` // newest first
}

func (m *Manager) serveList(w http.ResponseWriter, r *http.Request) {
	l := List{Enabled: m.Enabled(), Dir: m.o.Dir, Recordings: []Recording{}}
	if l.Enabled {
		l.Recordings = m.List(r.URL.Query().Get("channel"))
	} else {
		l.Why = HowToEnable
	}
	relay.WriteJSON(w, http.StatusOK, l)
}

// maxBody bounds a start request's body.
const maxBody = 64 << 10

func (m *Manager) serveStart(w http.ResponseWriter, r *http.Request) {
	if !m.Enabled() {
		writeError(w, errDisabled)
		return
	}
	var req StartRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		relay.WriteJSON(w, http.StatusBadRequest, errorBody{Error: "failed to read the request body: " + err.Error()})
		return
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
			relay.WriteJSON(w, http.StatusUnsupportedMediaType, errorBody{Error: "send the request as JSON (Content-Type: application/json), e.g. {\"labels\": [\"speaker=ann\"]}"})
			return
		}
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			relay.WriteJSON(w, http.StatusBadRequest, errorBody{Error: "invalid request body: " + err.Error() +
				" (fields: labels, format, on_gap, duration, rotate_every, rotate_size)"})
			return
		}
	}
	rec, err := m.Start(r.PathValue("name"), req)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Location", "/api/recordings?channel="+rec.Channel)
	relay.WriteJSON(w, http.StatusCreated, rec)
}

func (m *Manager) serveStop(w http.ResponseWriter, r *http.Request) {
	rec, err := m.Stop(r.PathValue("name"), EndedByStop)
	if err != nil {
		writeError(w, err)
		return
	}
	relay.WriteJSON(w, http.StatusOK, rec)
}

// serveFile serves a file this serve's recordings wrote: the name is only
// looked up among those, never taken as a path.
func (m *Manager) serveFile(w http.ResponseWriter, r *http.Request) {
	if !m.Enabled() {
		writeError(w, errDisabled)
		return
	}
	name := r.PathValue("file")
	m.mu.Lock()
	known := m.files[name]
	m.mu.Unlock()
	if !known || name != filepath.Base(name) {
		relay.WriteJSON(w, http.StatusNotFound, errorBody{Error: "no recording file " + name + " on this server (GET /api/recordings lists them)"})
		return
	}
	f, err := os.Open(filepath.Join(m.o.Dir, name))
	if err != nil {
		relay.WriteJSON(w, http.StatusNotFound, errorBody{Error: "recording file " + name + " cannot be read: " + err.Error()})
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		relay.WriteJSON(w, http.StatusInternalServerError, errorBody{Error: err.Error()})
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType(name))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Cache-Control", "no-store") // a file being written grows
	http.ServeContent(w, r, name, fi.ModTime(), f)
}

func contentType(name string) string {
	switch filepath.Ext(name) {
	case ".wav":
		return "audio/wav"
	case ".csv":
		return "text/csv; charset=utf-8"
	case ".json":
		return "application/json"
	}
	return "application/octet-stream"
}

type errorBody struct {
	Error     string     `json:"error"`
	Recording *Recording `json:"recording,omitempty"` // 409: the running one
}

// writeError answers err with its status.
func writeError(w http.ResponseWriter, err error) {
	body := errorBody{Error: err.Error()}
	code := http.StatusInternalServerError
	var busy *BusyError
	switch {
	case errors.As(err, &busy):
		code, body.Recording = http.StatusConflict, &busy.Running
	case errors.Is(err, ErrDisabled):
		code = http.StatusForbidden
	case errors.Is(err, ErrNoChannel), errors.Is(err, ErrNotRecording):
		code = http.StatusNotFound
	case errors.Is(err, ErrBadRequest):
		code = http.StatusBadRequest
	case errors.Is(err, ErrClosing):
		code = http.StatusServiceUnavailable
	}
	relay.WriteJSON(w, code, body)
}

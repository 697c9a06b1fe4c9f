package result

import (
	"strings"
	"testing"
)

type ready struct {
	Page   string `json:"page"`
	Stream string `json:"stream"`
}

func (r ready) String() string { return "page " + r.Page + " stream " + r.Stream }

func TestPrintTextAndJSON(t *testing.T) {
	r := ready{Page: "http://127.0.0.1:8080/", Stream: "ws://127.0.0.1:8080/ws"}
	var text, js strings.Builder
	if err := Print(&text, false, r); err != nil {
		t.Fatal(err)
	}
	if err := Print(&js, true, r); err != nil {
		t.Fatal(err)
	}
	if text.String() != "page http://127.0.0.1:8080/ stream ws://127.0.0.1:8080/ws\n" {
		t.Errorf("text %q", text.String())
	}
	if js.String() != `{"page":"http://127.0.0.1:8080/","stream":"ws://127.0.0.1:8080/ws"}`+"\n" {
		t.Errorf("json %q", js.String())
	}
}

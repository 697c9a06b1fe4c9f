package testsupport

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// GetJSON GETs url and decodes its JSON body into v. Anything but a 200
// with a JSON body fails the test, with the status and the body.
func GetJSON(t testing.TB, url string, v any) {
	t.Helper()
	body := getOK(t, url)
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", url, err, body)
	}
}

// getOK GETs url and returns its body; anything but a 200 fails the test,
// with the status and the body.
func getOK(t testing.TB, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	return body
}

package result

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Print writes r to w: with asJSON r's JSON encoding on one line,
// otherwise r.String(). Either ends in a newline.
func Print(w io.Writer, asJSON bool, r fmt.Stringer) error {
	var text string
	if asJSON {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("failed to encode the result as JSON: %w", err)
		}
		text = string(b)
	} else {
		text = r.String()
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	_, err := io.WriteString(w, text)
	return err
}

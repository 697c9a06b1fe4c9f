package config

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// ErrInvalid is wrapped by every error Apply returns.
var ErrInvalid = errors.New("invalid configuration")

// Sources are the layers below the command line.
type Sources struct {
	File     io.Reader // YAML mapping of flag names to values; nil for none
	FileName string    // for error messages
	Env      []string  // "KEY=value" entries, as os.Environ returns
	Prefix   string    // e.g. "WSBRIDGE_"
	// Sections are the file's keys that are not flags but structured
	// settings (serve's devices: list), each read by its function. Its
	// errors name the field ("devices[1].baud (line 9): ..."); Apply adds
	// the file's name.
	Sections map[string]func(v *yaml.Node) error
}

// Origins says where the settings that did not come from the command line
// were set: flag name -> "WSBRIDGE_SLOW_CLIENT" or "serve.yaml line 3".
type Origins map[string]string

// Apply sets the flags of fs from src, keeping every flag given on the
// command line, and returns where the others' values came from. Only flags
// for which include returns true are configurable.
func Apply(fs *pflag.FlagSet, src Sources, include func(name string) bool) (Origins, error) {
	given := snapshot(fs)
	origins := Origins{}
	if src.File != nil {
		if err := applyFile(fs, src, include, origins); err != nil {
			return nil, err
		}
	}
	if err := applyEnv(fs, src, include, origins); err != nil {
		return nil, err
	}
	for _, g := range given {
		g.restore()
		delete(origins, g.f.Name)
	}
	return origins, nil
}

// given is a flag value from the command line, kept while lower layers apply.
type given struct {
	f     *pflag.Flag
	str   string
	slice []string
}

func snapshot(fs *pflag.FlagSet) []given {
	var out []given
	fs.VisitAll(func(f *pflag.Flag) { // not Visit: a merged FlagSet has Changed flags Visit does not list
		if !f.Changed {
			return
		}
		g := given{f: f, str: f.Value.String()}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			g.slice = sv.GetSlice()
		}
		out = append(out, g)
	})
	return out
}

func (g given) restore() {
	if sv, ok := g.f.Value.(pflag.SliceValue); ok {
		_ = sv.Replace(g.slice)
		return
	}
	_ = g.f.Value.Set(g.str)
}

// EnvName is the environment variable for a flag: WSBRIDGE_SLOW_CLIENT for slow-client.
func EnvName(prefix, flag string) string {
	return prefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func applyEnv(fs *pflag.FlagSet, src Sources, include func(string) bool, origins Origins) error {
	env := map[string]string{}
	for _, kv := range src.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, src.Prefix) {
			env[k] = v
		}
	}
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		v, ok := env[EnvName(src.Prefix, f.Name)]
		if !ok || err != nil || !include(f.Name) {
			return
		}
		if e := setFlag(f, []string{v}); e != nil {
			err = fmt.Errorf("%w: %s=%q: %v", ErrInvalid, EnvName(src.Prefix, f.Name), v, e)
		}
		origins[f.Name] = EnvName(src.Prefix, f.Name)
	})
	return err
}

func applyFile(fs *pflag.FlagSet, src Sources, include func(string) bool, origins Origins) error {
	var doc yaml.Node
	if err := yaml.NewDecoder(src.File).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return fmt.Errorf("%w: %s: %v", ErrInvalid, src.FileName, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%w: %s: want a mapping of setting names to values", ErrInvalid, src.FileName)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if read, ok := src.Sections[k.Value]; ok {
			if err := read(root.Content[i+1]); err != nil {
				return fmt.Errorf("%w: %s: %v", ErrInvalid, src.FileName, err)
			}
			origins[k.Value] = fmt.Sprintf("%s line %d", src.FileName, k.Line)
			continue
		}
		if err := applyKey(fs, src.FileName, k, root.Content[i+1], include); err != nil {
			return err
		}
		origins[strings.ReplaceAll(k.Value, "_", "-")] = fmt.Sprintf("%s line %d", src.FileName, k.Line)
	}
	return nil
}

func applyKey(fs *pflag.FlagSet, file string, k, v *yaml.Node, include func(string) bool) error {
	name := strings.ReplaceAll(k.Value, "_", "-")
	f := fs.Lookup(name)
	if f == nil || !include(name) {
		return fmt.Errorf("%w: %s line %d: unknown key %q%s", ErrInvalid, file, k.Line, k.Value, suggest(fs, name, include))
	}
	vals, err := scalars(v)
	if err == nil {
		err = setFlag(f, vals)
	}
	if err != nil && v.Kind == yaml.ScalarNode {
		return fmt.Errorf("%w: %s line %d: key %q: %q: %v", ErrInvalid, file, v.Line, k.Value, v.Value, err)
	}
	if err != nil {
		return fmt.Errorf("%w: %s line %d: key %q: %v", ErrInvalid, file, v.Line, k.Value, err)
	}
	return nil
}

func scalars(v *yaml.Node) ([]string, error) {
	switch v.Kind {
	case yaml.ScalarNode:
		return []string{v.Value}, nil
	case yaml.SequenceNode:
		out := make([]string, 0, len(v.Content))
		for _, c := range v.Content {
			if c.Kind != yaml.ScalarNode {
				return nil, errors.New("want a list of plain values")
			}
			out = append(out, c.Value)
		}
		return out, nil
	}
	return nil, errors.New("want a value or a list of values")
}

func setFlag(f *pflag.Flag, vals []string) error {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		var all []string
		for _, v := range vals {
			all = append(all, strings.Split(v, ",")...)
		}
		return sv.Replace(all)
	}
	if len(vals) != 1 {
		return fmt.Errorf("want one value, got %d", len(vals))
	}
	if err := f.Value.Set(vals[0]); err != nil {
		if want := ValueHelp(f); want != "" {
			return errors.New("want " + want)
		}
		return err
	}
	f.Changed = true
	return nil
}

// ValueHelp says what a value of f must look like when f holds a number,
// a duration or a boolean ("a whole number from 0 to 4294967295"), whose
// parsers' own errors (strconv.ParseUint: parsing "-5": invalid syntax)
// tell a user nothing; "" for other flags, whose errors say it themselves.
func ValueHelp(f *pflag.Flag) string {
	switch f.Value.Type() {
	case "uint8":
		return "a whole number from 0 to 255"
	case "uint16":
		return "a whole number from 0 to 65535"
	case "uint32":
		return "a whole number from 0 to 4294967295"
	case "uint", "uint64":
		return "a whole number, 0 or more"
	case "int", "int8", "int16", "int32", "int64":
		return "a whole number"
	case "float32", "float64":
		return "a number"
	case "duration":
		return "a duration such as 500ms, 30s or 2m"
	case "bool":
		return "true or false"
	}
	return ""
}

// suggest names the closest configurable key, if one is close.
func suggest(fs *pflag.FlagSet, name string, include func(string) bool) string {
	if best := Closest(fs, name, include); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// Closest returns the name of the flag of fs (for which include is true)
// that a mistyped name most likely meant: one that ends in -name (signal
// for sim-signal), else one within two edits (histroy for history); ""
// if none is that close.
func Closest(fs *pflag.FlagSet, name string, include func(string) bool) string {
	best, bestD := "", 3
	fs.VisitAll(func(f *pflag.Flag) {
		d := distance(name, f.Name)
		if strings.HasSuffix(f.Name, "-"+name) {
			d = 0
		}
		if include(f.Name) && d < bestD {
			best, bestD = f.Name, d
		}
	})
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// Dump writes the effective value of every configurable flag of fs as YAML,
// sorted by name, in a form Apply accepts back. The values of flags for
// which redact returns true are shown as "<set>" or "" only.
func Dump(w io.Writer, fs *pflag.FlagSet, include, redact func(string) bool) error {
	var names []string
	nodes := map[string]*yaml.Node{}
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if include(f.Name) && err == nil {
			names = append(names, f.Name)
			nodes[f.Name], err = valueNode(f, redact(f.Name))
		}
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	node := &yaml.Node{Kind: yaml.MappingNode}
	for _, n := range names {
		node.Content = append(node.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: n}, nodes[n])
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(node); err != nil {
		return err
	}
	return enc.Close()
}

// valueNode renders a flag's value: lists as sequences, numbers, booleans
// and durations plain, strings quoted where YAML needs it.
func valueNode(f *pflag.Flag, redact bool) (*yaml.Node, error) {
	var v yaml.Node
	if redact {
		shown := ""
		if f.Value.String() != "" {
			shown = "<set>"
		}
		return &v, v.Encode(shown)
	}
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		return &v, v.Encode(sv.GetSlice())
	}
	switch f.Value.Type() {
	case "bool", "int", "int64", "uint", "uint32", "uint64", "float64", "duration", "uint16", "uint8", "int32":
		return &yaml.Node{Kind: yaml.ScalarNode, Value: f.Value.String()}, nil
	}
	return &v, v.Encode(f.Value.String())
}

package peer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// Reading and editing config.yaml by dotted key (discovery.mdns,
// swarm.listen), for `cairn config`, its RPC twin and the profiles. Edits
// go through yaml.v3's node tree, so the file's comments stay where they
// are; the result is parsed and validated before it replaces the file.

// ConfigValues returns cfg as plain values (maps, lists, strings, numbers,
// booleans; durations as "30s") keyed by config.yaml's names: what
// `cairn config show` prints as JSON.
func ConfigValues(cfg Config) (map[string]any, error) {
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var out map[string]any
	if err := yaml.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return out, nil
}

// ConfigValue returns the value at a dotted key of cfg, a section or a
// single setting.
func ConfigValue(cfg Config, key string) (any, error) {
	if _, err := configKeyType(key); err != nil {
		return nil, err
	}
	values, err := ConfigValues(cfg)
	if err != nil {
		return nil, err
	}
	var v any = values
	for _, part := range strings.Split(key, ".") {
		m, _ := v.(map[string]any)
		v = m[part]
	}
	return v, nil
}

// configKeyType is the Go type a dotted key holds, or an error naming
// the key when Config has no such key.
func configKeyType(key string) (reflect.Type, error) {
	t := reflect.TypeOf(Config{})
	for _, part := range strings.Split(key, ".") {
		if t.Kind() != reflect.Struct {
			return nil, fmt.Errorf("unknown key %q: %s is not a section", key, part)
		}
		ft, ok := yamlFields(t)[part]
		if !ok {
			return nil, fmt.Errorf("unknown key %q", key)
		}
		t = ft
	}
	return t, nil
}

// ConfigSetting is one value to set by key: Text is what a user typed,
// read as YAML (so as JSON too) unless the key holds a string; with
// JSON it must be JSON. Value, when Text is "", is a Go value instead.
type ConfigSetting struct {
	Key   string
	Text  string
	JSON  bool
	Value any
}

// SetConfig sets each key in repoDir's config.yaml, keeping its comments,
// and returns the new config. Nothing is written unless the whole file
// still parses and validates.
func SetConfig(repoDir string, settings ...ConfigSetting) (Config, error) {
	return EditConfigFile(repoDir, func(doc *yaml.Node) error {
		for _, s := range settings {
			if err := setConfigNode(doc, s); err != nil {
				return err
			}
		}
		return nil
	})
}

// EditConfigFile applies edit to the node tree of repoDir's config.yaml,
// checks the result as the daemon would at start, and writes it in place
// of the file. It returns the new config.
func EditConfigFile(repoDir string, edit func(doc *yaml.Node) error) (Config, error) {
	path := filepath.Join(repoDir, ConfigFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	out, cfg, err := editConfig(data, edit)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := writeFileSync(path, out, 0o644); err != nil {
		return Config{}, err
	}
	cfg.RepoDir = repoDir
	return cfg, nil
}

// editConfig edits config YAML and returns the new text and config, or
// why the result is not a config the daemon would start with.
func editConfig(data []byte, edit func(doc *yaml.Node) error) ([]byte, Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, Config{}, fmt.Errorf("not valid YAML: %s", oneLine(err))
	}
	if doc.Kind == 0 { // an empty file
		doc.Kind = yaml.DocumentNode
	}
	if len(doc.Content) == 0 { // empty, or comments only
		doc.Content = []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}
	}
	if err := edit(&doc); err != nil {
		return nil, Config{}, err
	}
	out, err := encodeConfig(&doc)
	if err != nil {
		return nil, Config{}, err
	}
	cfg, err := ParseConfig(out)
	if err != nil {
		return nil, Config{}, fmt.Errorf("refusing the change: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, Config{}, fmt.Errorf("refusing the change: %w", err)
	}
	return out, cfg, nil
}

// encodeConfig writes doc back as config.yaml is laid out: two-space
// indents, and a blank line before each top-level section, which yaml.v3
// does not keep.
func encodeConfig(doc *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return spaceSections(buf.Bytes())
}

// spaceSections puts a blank line before each top-level key but the first
// (before its head comment, if any), unless one is there.
func spaceSections(data []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return data, nil
	}
	lines := strings.SplitAfter(string(data), "\n")
	blankBefore := map[int]bool{} // 0-based line indexes
	m := doc.Content[0]
	for i := 2; i < len(m.Content); i += 2 {
		key := m.Content[i]
		start := key.Line - 1
		if key.HeadComment != "" {
			start -= strings.Count(key.HeadComment, "\n") + 1
		}
		if start > 0 && strings.TrimSpace(lines[start-1]) != "" {
			blankBefore[start] = true
		}
	}
	var b strings.Builder
	for i, l := range lines {
		if blankBefore[i] {
			b.WriteString("\n")
		}
		b.WriteString(l)
	}
	return []byte(b.String()), nil
}

// setConfigNode puts s's value at s.Key, creating the sections on the way,
// and keeps the comments of the value it replaces.
func setConfigNode(doc *yaml.Node, s ConfigSetting) error {
	t, err := configKeyType(s.Key)
	if err != nil {
		return err
	}
	val, err := settingNode(s, t)
	if err != nil {
		return err
	}
	m := doc
	if m.Kind == yaml.DocumentNode {
		m = m.Content[0]
	}
	parts := strings.Split(s.Key, ".")
	for i, part := range parts {
		if m.Kind != yaml.MappingNode {
			return fmt.Errorf("%s: not a section in the file", strings.Join(parts[:i], "."))
		}
		j := mappingIndex(m, part)
		if j < 0 {
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: part}, &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"})
			j = len(m.Content) - 1
		}
		if i == len(parts)-1 {
			old := m.Content[j]
			val.HeadComment, val.LineComment, val.FootComment = old.HeadComment, old.LineComment, old.FootComment
			m.Content[j] = val
			return nil
		}
		m = m.Content[j]
	}
	return nil
}

// mappingIndex is the index of key's value in mapping m, or -1.
func mappingIndex(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i + 1
		}
	}
	return -1
}

// settingNode is the YAML node of s's value for a key holding type t.
func settingNode(s ConfigSetting, t reflect.Type) (*yaml.Node, error) {
	var n yaml.Node
	switch {
	case s.Text == "" && s.Value != nil:
		if err := n.Encode(s.Value); err != nil {
			return nil, fmt.Errorf("%s: %w", s.Key, err)
		}
		return &n, nil
	case s.JSON:
		if !json.Valid([]byte(s.Text)) {
			return nil, fmt.Errorf("%s: %q is not valid JSON", s.Key, s.Text)
		}
	case t.Kind() == reflect.String:
		// Taken as typed: "true" or "a: b" is a string here.
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s.Text}, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(s.Text), &doc); err != nil {
		return nil, fmt.Errorf("%s: %q is not a YAML or JSON value: %s", s.Key, s.Text, oneLine(err))
	}
	if len(doc.Content) == 0 {
		return nil, errors.New(s.Key + ": no value given")
	}
	val := doc.Content[0]
	val.Style &^= yaml.FlowStyle // lists and sections in block style, as the file writes them
	return val, nil
}

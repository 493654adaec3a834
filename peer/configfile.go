package peer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ConfigFile is the config's name inside a repo.
const ConfigFile = "config.yaml"

// LoadConfig reads <repoDir>/config.yaml over the defaults. Keys left out
// keep their default; an unknown key or a value of the wrong type stops
// with an error naming the key and line. It does not Validate, so that
// flags can still override before the whole is checked.
func LoadConfig(repoDir string) (Config, error) {
	path := filepath.Join(repoDir, ConfigFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	cfg.RepoDir = repoDir
	return cfg, nil
}

// ParseConfig parses config YAML strictly over DefaultConfig.
func ParseConfig(data []byte) (Config, error) {
	cfg := DefaultConfig()
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Config{}, fmt.Errorf("not valid YAML: %s", oneLine(err))
	}
	if err := checkKeys(&root, reflect.TypeOf(cfg), ""); err != nil {
		return Config{}, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, describeDecodeError(err, &root)
	}
	return cfg, nil
}

// checkKeys walks the YAML beside the Go type so that an unknown key is
// reported with its full dotted path ("dht.mdoe"), which yaml.v3's own
// KnownFields error does not give.
func checkKeys(n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			if err := checkKeys(c, t, path); err != nil {
				return err
			}
		}
		return nil
	}
	if n.Kind != yaml.MappingNode || t.Kind() != reflect.Struct {
		return nil
	}
	fields := yamlFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		full := joinKey(path, key.Value)
		ft, ok := fields[key.Value]
		if !ok {
			return fmt.Errorf("unknown key %q (line %d)", full, key.Line)
		}
		if err := checkKeys(val, ft, full); err != nil {
			return err
		}
	}
	return nil
}

// yamlFields maps the YAML keys a struct accepts to their types, following
// inline embedded structs.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case opts == "inline":
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
		case name == "":
			out[strings.ToLower(f.Name)] = f.Type
		default:
			out[name] = f.Type
		}
	}
	return out
}

var lineRE = regexp.MustCompile(`line (\d+): (.*)`)

// describeDecodeError turns yaml.v3's type errors into one line that names
// the key, e.g. `connections.low (line 9): cannot unmarshal !!str "x" into int`.
func describeDecodeError(err error, root *yaml.Node) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) || len(te.Errors) == 0 {
		return fmt.Errorf("not valid: %s", oneLine(err))
	}
	m := lineRE.FindStringSubmatch(te.Errors[0])
	if m == nil {
		return errors.New(oneLine(errors.New(te.Errors[0])))
	}
	line, _ := strconv.Atoi(m[1])
	key := keyAtLine(root, line, "")
	if key == "" {
		return fmt.Errorf("line %d: %s", line, m[2])
	}
	return fmt.Errorf("%s (line %d): %s", key, line, m[2])
}

// keyAtLine finds the dotted key whose value starts on line.
func keyAtLine(n *yaml.Node, line int, path string) string {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if k := keyAtLine(c, line, path); k != "" {
				return k
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			full := joinKey(path, key.Value)
			if k := keyAtLine(val, line, full); k != "" {
				return k
			}
			if key.Line == line || val.Line == line {
				return full
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if c.Line == line && c.Kind == yaml.ScalarNode {
				return fmt.Sprintf("%s[%d]", path, i)
			}
			if k := keyAtLine(c, line, fmt.Sprintf("%s[%d]", path, i)); k != "" {
				return k
			}
		}
	}
	return ""
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "yaml: ", "")), " ")
}

// ParseLogLevel maps log.level to a slog level.
func ParseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log.level: %q is not one of debug, info, warn, error", s)
	}
	return l, nil
}

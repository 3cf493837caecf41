package configs

import (
	"encoding"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// EnvPrefix starts every environment variable that overrides a config key.
const EnvPrefix = "OPSBOT_"

// envField is one overridable config field.
type envField struct {
	path   string        // yaml path, e.g. "server.listen"
	value  reflect.Value // settable field value
	secret bool          // never echo the value in errors
}

// envName returns the environment variable overriding the yaml path, e.g.
// "bootstrap.admin.user" -> "OPSBOT_BOOTSTRAP_ADMIN_USER".
func envName(path string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// EnvNames returns the sorted names of every environment variable that
// overrides a config key.
func EnvNames() []string {
	var c Config
	names := make([]string, 0, 32)
	for name := range envFields(&c) {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// envFields maps each override variable name to its field in c. Scalars,
// pointers to scalars, slices of scalars and types implementing
// encoding.TextUnmarshaler are overridable; slices of structs are not.
func envFields(c *Config) map[string]envField {
	out := map[string]envField{}
	walkStructs(reflect.ValueOf(c).Elem(), "", func(prefix string, sv reflect.Value) {
		for i := 0; i < sv.NumField(); i++ {
			sf := sv.Type().Field(i)
			name := yamlName(sf)
			if name == "" || !overridable(sf.Type) {
				continue
			}
			path := joinPath(prefix, name)
			if _, dup := out[envName(path)]; !dup {
				out[envName(path)] = envField{path: path, value: sv.Field(i), secret: sf.Tag.Get("secret") != ""}
			}
		}
	})
	return out
}

// walkStructs calls fn for v and every nested struct reachable through
// struct fields with a yaml name, with the struct's yaml path prefix.
// Structs implementing encoding.TextUnmarshaler are leaves, not visited.
func walkStructs(v reflect.Value, prefix string, fn func(prefix string, v reflect.Value)) {
	fn(prefix, v)
	for i := 0; i < v.NumField(); i++ {
		sf := v.Type().Field(i)
		name := yamlName(sf)
		if name != "" && sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.Struct {
			// Lists of sections (alerts.receivers) get their *_file secrets too.
			for j := 0; j < v.Field(i).Len(); j++ {
				walkStructs(v.Field(i).Index(j), fmt.Sprintf("%s[%d]", joinPath(prefix, name), j), fn)
			}
			continue
		}
		if name == "" || sf.Type.Kind() != reflect.Struct || isTextUnmarshaler(sf.Type) {
			continue
		}
		p := joinPath(prefix, name)
		if strings.Contains(sf.Tag.Get("yaml"), ",inline") {
			p = prefix
		}
		walkStructs(v.Field(i), p, fn)
	}
}

// yamlName returns the yaml key of an exported field, or "" if it has none.
func yamlName(sf reflect.StructField) string {
	if !sf.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// joinPath joins yaml path parts with ".".
func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// isTextUnmarshaler reports whether *t implements encoding.TextUnmarshaler.
func isTextUnmarshaler(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]())
}

// isScalar reports whether a value of type t can be parsed from one string.
func isScalar(t reflect.Type) bool {
	if isTextUnmarshaler(t) {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// overridable reports whether a field of type t can be set from one
// environment variable.
func overridable(t reflect.Type) bool {
	switch {
	case isScalar(t):
		return true
	case t.Kind() == reflect.Pointer:
		return isScalar(t.Elem())
	case t.Kind() == reflect.Slice:
		return isScalar(t.Elem())
	}
	return false
}

// setFromString parses s into the settable value v. Slices take a comma
// separated list; blank items are dropped.
func setFromString(v reflect.Value, s string) error {
	if v.CanAddr() {
		if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
			return u.UnmarshalText([]byte(s))
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if err := setFromString(p.Elem(), s); err != nil {
			return err
		}
		v.Set(p)
	case reflect.Slice:
		var items []string
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		sl := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, item := range items {
			if err := setFromString(sl.Index(i), item); err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
		}
		v.Set(sl)
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("want true or false: %w", err)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("want an integer: %w", err)
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("want a non-negative integer: %w", err)
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), v.Type().Bits())
		if err != nil {
			return fmt.Errorf("want a number: %w", err)
		}
		v.SetFloat(f)
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}

// applyEnv applies OPSBOT_* overrides from environ ("K=V"; the last entry
// for a name wins). Empty values, unknown names and OPSBOT_CONFIG are
// ignored. It returns the set of yaml paths that were overridden.
func applyEnv(c *Config, environ []string) (map[string]bool, error) {
	vars := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, EnvPrefix) && k != EnvConfig {
			vars[k] = v
		}
	}
	fields := envFields(c)
	set := map[string]bool{}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		f, known := fields[name]
		val := vars[name]
		if !known || val == "" {
			continue
		}
		if err := setFromString(f.value, val); err != nil {
			shown := strconv.Quote(val)
			if f.secret {
				shown = "(secret)"
			}
			errs = append(errs, fmt.Errorf("%s: invalid value %s for %s: %w", name, shown, f.path, err))
			continue
		}
		set[f.path] = true
	}
	return set, errors.Join(errs...)
}

// applyFiles resolves every string field "x_file" that has a sibling string
// field "x": a set x_file is read, trimmed and stored in x. Setting both is
// an error, except that an environment override of one side clears a value
// of the other side that came from YAML.
func applyFiles(c *Config, envSet map[string]bool) error {
	var errs []error
	walkStructs(reflect.ValueOf(c).Elem(), "", func(prefix string, sv reflect.Value) {
		byName := map[string]reflect.Value{}
		for i := 0; i < sv.NumField(); i++ {
			if name := yamlName(sv.Type().Field(i)); name != "" && sv.Field(i).Kind() == reflect.String {
				byName[name] = sv.Field(i)
			}
		}
		for i := 0; i < sv.NumField(); i++ {
			fileKey := yamlName(sv.Type().Field(i))
			baseKey, isFile := strings.CutSuffix(fileKey, "_file")
			base, hasBase := byName[baseKey]
			if !isFile || !hasBase || sv.Field(i).Kind() != reflect.String {
				continue
			}
			file := sv.Field(i)
			basePath, filePath := joinPath(prefix, baseKey), joinPath(prefix, fileKey)
			switch {
			case envSet[basePath] && !envSet[filePath]:
				file.SetString("")
			case envSet[filePath] && !envSet[basePath]:
				base.SetString("")
			}
			name := file.String()
			if name == "" {
				continue
			}
			if base.String() != "" {
				errs = append(errs, fmt.Errorf("%s and %s are both set; use only one", basePath, filePath))
				continue
			}
			data, err := os.ReadFile(name)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: read secret file: %w", filePath, err))
				continue
			}
			secret := strings.TrimSpace(string(data))
			if secret == "" {
				errs = append(errs, fmt.Errorf("%s: secret file %q is empty", filePath, name))
				continue
			}
			base.SetString(secret)
		}
	})
	return errors.Join(errs...)
}

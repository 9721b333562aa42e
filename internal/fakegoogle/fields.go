package fakegoogle

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// fieldMask is a parsed "fields" parameter, Google's partial-response
// selector: the keys to keep at one level of a JSON object, each with the
// mask for its value (nil: keep the whole value).
type fieldMask map[string]fieldMask

var errFieldSelection = errors.New("invalid field selection")

// parseFields parses a "fields" value: comma-separated selections, each a
// path of names joined by "/" and optionally followed by a parenthesised
// list of sub-selections, as in "labels(id,name),nextPageToken" or
// "labels/name". "*" selects everything (a nil mask). Spaces are not
// allowed, as at Google.
func parseFields(s string) (fieldMask, error) {
	if s == "" || s == "*" {
		return nil, nil
	}
	m, rest, err := parseSelections(s)
	if err != nil {
		return nil, err
	}
	if rest != "" {
		return nil, errFieldSelection
	}
	return m, nil
}

// parseSelections parses selections until the end of s or an unmatched ")",
// which it leaves in rest.
func parseSelections(s string) (m fieldMask, rest string, err error) {
	m = fieldMask{}
	for {
		end := strings.IndexAny(s, ",()")
		if end < 0 {
			end = len(s)
		}
		path := s[:end]
		s = s[end:]
		var sub fieldMask
		if strings.HasPrefix(s, "(") {
			if sub, s, err = parseSelections(s[1:]); err != nil {
				return nil, "", err
			}
			if !strings.HasPrefix(s, ")") || len(sub) == 0 {
				return nil, "", errFieldSelection
			}
			s = s[1:]
		}
		if err := m.add(path, sub); err != nil {
			return nil, "", err
		}
		if !strings.HasPrefix(s, ",") {
			return m, s, nil
		}
		s = s[1:]
	}
}

// add records a selection of path ("a/b/c") with sub as the mask of its
// last name.
func (m fieldMask) add(path string, sub fieldMask) error {
	names := strings.Split(path, "/")
	for i, name := range names {
		if name == "" || strings.ContainsAny(name, " *") {
			return errFieldSelection
		}
		last := i == len(names)-1
		next, seen := m[name]
		switch {
		case seen && next == nil:
			return nil // already selected whole
		case last && sub == nil:
			m[name] = nil
			return nil
		case last:
			if next == nil {
				next = fieldMask{}
			}
			for k, v := range sub {
				next[k] = v
			}
			m[name] = next
			return nil
		case next == nil:
			next = fieldMask{}
			m[name] = next
		}
		m = next
	}
	return nil
}

// apply returns the JSON encoding of v reduced to what m selects. Arrays
// are reduced element by element; names that are absent are skipped.
func (m fieldMask) apply(v any) ([]byte, error) {
	full, err := json.Marshal(v)
	if m == nil || err != nil {
		return full, err
	}
	var generic any
	if err := json.Unmarshal(full, &generic); err != nil {
		return nil, err
	}
	return json.Marshal(m.reduce(generic))
}

func (m fieldMask) reduce(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(m))
		for name, sub := range m {
			if value, ok := v[name]; ok {
				if sub != nil {
					value = sub.reduce(value)
				}
				out[name] = value
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = m.reduce(e)
		}
		return out
	default:
		return v
	}
}

// encodeSelected returns the JSON of v reduced to the fields selection, as
// a Gmail method answers. On a malformed selection (400 invalidParameter,
// as at Google) or an encoding failure it answers w itself and returns
// false.
func encodeSelected(w http.ResponseWriter, fields string, v any) ([]byte, bool) {
	mask, err := parseFields(fields)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "invalidParameter", "Invalid field selection "+fields)
		return nil, false
	}
	body, err := mask.apply(v)
	if err != nil {
		http.Error(w, "fakegoogle: cannot encode response", http.StatusInternalServerError)
		return nil, false
	}
	return body, true
}

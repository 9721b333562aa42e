package fakegoogle

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestFieldMaskReducesResponses(t *testing.T) {
	type color struct {
		Text string `json:"textColor"`
		Bg   string `json:"backgroundColor"`
	}
	type label struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Type  string `json:"type"`
		Color *color `json:"color,omitempty"`
	}
	type list struct {
		Labels []label `json:"labels"`
		Next   string  `json:"nextPageToken,omitempty"`
	}
	value := list{Labels: []label{
		{ID: "INBOX", Name: "INBOX", Type: "system"},
		{ID: "Label_1", Name: "Work", Type: "user", Color: &color{"#000000", "#fad165"}},
	}, Next: "p2"}
	tests := []struct {
		fields string
		want   string
	}{
		{"", `{"labels":[{"id":"INBOX","name":"INBOX","type":"system"},{"id":"Label_1","name":"Work","type":"user","color":{"textColor":"#000000","backgroundColor":"#fad165"}}],"nextPageToken":"p2"}`},
		{"*", `{"labels":[{"id":"INBOX","name":"INBOX","type":"system"},{"id":"Label_1","name":"Work","type":"user","color":{"textColor":"#000000","backgroundColor":"#fad165"}}],"nextPageToken":"p2"}`},
		{"labels(name,type)", `{"labels":[{"name":"INBOX","type":"system"},{"name":"Work","type":"user"}]}`},
		{"labels/name,labels/type", `{"labels":[{"name":"INBOX","type":"system"},{"name":"Work","type":"user"}]}`},
		{"labels/color/textColor", `{"labels":[{},{"color":{"textColor":"#000000"}}]}`},
		{"labels(id,color(backgroundColor)),nextPageToken", `{"labels":[{"id":"INBOX"},{"color":{"backgroundColor":"#fad165"},"id":"Label_1"}],"nextPageToken":"p2"}`},
		{"labels,labels/name", `{"labels":[{"id":"INBOX","name":"INBOX","type":"system"},{"color":{"backgroundColor":"#fad165","textColor":"#000000"},"id":"Label_1","name":"Work","type":"user"}]}`},
		{"nextPageToken,unknown", `{"nextPageToken":"p2"}`},
	}
	for _, tt := range tests {
		mask, err := parseFields(tt.fields)
		if err != nil {
			t.Errorf("parseFields(%q): %v", tt.fields, err)
			continue
		}
		got, err := mask.apply(value)
		if err != nil || string(got) != tt.want {
			t.Errorf("fields %q:\n got %s (%v)\nwant %s", tt.fields, got, err, tt.want)
		}
	}
}

func TestParseFieldsRejectsMalformedSelections(t *testing.T) {
	for _, fields := range []string{
		"labels(", "labels()", "labels)", "labels(name", "labels(name))", ",labels", "labels,",
		"labels//name", "/labels", "labels/", " labels", "labels(name, type)", "labels/*", "a(b)c",
	} {
		if _, err := parseFields(fields); !errors.Is(err, errFieldSelection) {
			t.Errorf("parseFields(%q) = %v, want errFieldSelection", fields, err)
		}
	}
}

// FuzzParseFields checks that any fields value is either rejected or gives a
// mask that reduces a labels list to valid JSON, without a panic.
func FuzzParseFields(f *testing.F) {
	for _, seed := range []string{"labels(name,type)", "labels/color/textColor,nextPageToken", "a(b(c,d),e)/f", "labels(", "*"} {
		f.Add(seed)
	}
	value := listLabelsResponse{Labels: DemoAccounts()[0].Labels}
	f.Fuzz(func(t *testing.T, fields string) {
		mask, err := parseFields(fields)
		if err != nil {
			return
		}
		out, err := mask.apply(value)
		if err != nil || !json.Valid(out) {
			t.Fatalf("fields %q: %s, %v", fields, out, err)
		}
	})
}

package baton

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"
)

func TestValuesKeepIntegers(t *testing.T) {
	in := map[string]any{
		"i": 7, "neg": int64(-3), "u": uint8(200), "f": 1.5, "whole": 2.0, "max": int64(MaxExactInt),
		"s": "x", "b": true, "n": nil, "l": []any{1, 2.5, "three"}, "nested": map[string]any{"deep": []int{4}},
	}
	value, err := ToValue(in)
	if err != nil {
		t.Fatal(err)
	}
	out := FromValue(value)
	text, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"b":true,"f":1.5,"i":7,"l":[1,2.5,"three"],"max":9007199254740992,"n":null,"neg":-3,"nested":{"deep":[4]},"s":"x","u":200,"whole":2}`
	if string(text) != want {
		t.Fatalf("round trip:\n got %s\nwant %s", text, want)
	}
	object := out.(map[string]any)
	if _, ok := object["i"].(int64); !ok {
		t.Errorf(`"i" came back as %T, want int64`, object["i"])
	}
	if _, ok := object["f"].(float64); !ok {
		t.Errorf(`"f" came back as %T, want float64`, object["f"])
	}
	if got := JSON(value); got != want {
		t.Errorf("JSON() = %s, want %s", got, want)
	}
}

func TestValuesBeyondExactRangeAreFloats(t *testing.T) {
	if got := FromValue(structpb.NewNumberValue(1e300)); got != 1e300 {
		t.Errorf("1e300 came back as %T %v", got, got)
	}
	if got := FromValue(structpb.NewNumberValue(MaxExactInt * 2)); got != float64(MaxExactInt*2) {
		t.Errorf("2^54 came back as %T %v, want float64", got, got)
	}
	if got := FromValue(nil); got != nil {
		t.Errorf("nil value came back as %v", got)
	}
}

func TestToValueRefusesWhatJSONCannotCarry(t *testing.T) {
	cases := map[string]any{
		"beyond 2^53": map[string]any{"id": int64(MaxExactInt + 1)},
		"uint64":      []any{uint64(math.MaxUint64)},
		"NaN":         math.NaN(),
		"infinity":    map[string]any{"x": math.Inf(1)},
		"channel":     make(chan int),
		"big number":  json.Number("123456789012345678901"),
	}
	for name, v := range cases {
		if _, err := ToValue(v); err == nil {
			t.Errorf("%s: ToValue accepted %v", name, v)
		} else if !strings.HasPrefix(err.Error(), "baton: $") {
			t.Errorf("%s: error %q does not name the path", name, err)
		}
	}
}

func TestStructsConvertAndDecode(t *testing.T) {
	type item struct {
		Name  string `json:"name"`
		Count int64  `json:"count"`
	}
	type order struct {
		ID    int     `json:"id"`
		Items []item  `json:"items"`
		Note  *string `json:"note"`
	}
	value, err := ToValue(order{ID: 42, Items: []item{{"pen", MaxExactInt}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := JSON(value), `{"id":42,"items":[{"count":9007199254740992,"name":"pen"}],"note":null}`; got != want {
		t.Fatalf("struct as JSON: got %s, want %s", got, want)
	}
	var back order
	if err := Decode(value, &back); err != nil {
		t.Fatal(err)
	}
	if back.ID != 42 || len(back.Items) != 1 || back.Items[0].Count != MaxExactInt {
		t.Fatalf("decoded %+v", back)
	}
	var wrong struct {
		ID string `json:"id"`
	}
	if err := Decode(value, &wrong); err == nil || !strings.Contains(err.Error(), "decode") {
		t.Fatalf("decoding a number into a string field: err = %v", err)
	}
}

func TestRawJSONAndNumbers(t *testing.T) {
	value, err := ToValue(json.RawMessage(`{"a": 1, "b": [true, null, 0.25]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := JSON(value); got != `{"a":1,"b":[true,null,0.25]}` {
		t.Fatalf("raw JSON: %s", got)
	}
	if _, err := ToValue(json.RawMessage(`{"a": `)); err == nil {
		t.Fatal("invalid raw JSON accepted")
	}
	value, err = ToValue(json.Number("12"))
	if err != nil || FromValue(value) != int64(12) {
		t.Fatalf("json.Number: %v %v", FromValue(value), err)
	}
}

package baton

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// MaxExactInt is the largest integer magnitude a JSON number (an IEEE double, as carried by
// google.protobuf.Value) holds exactly: 2^53.
const MaxExactInt = 1 << 53

// ToValue converts a Go value to the JSON value the API carries (google.protobuf.Value).
//
// It accepts nil, bool, string, every integer and float type, json.Number, json.RawMessage,
// []any, map[string]any, the structpb types, and anything else encoding/json can marshal
// (structs with json tags, typed slices and maps). Integers beyond ±2^53 and NaN or infinite
// floats are refused with an error naming the path, because a JSON number cannot carry them
// exactly.
func ToValue(v any) (*structpb.Value, error) { return toValue(v, "$") }

// MustValue is ToValue for values known to convert (literals in tests and examples); it panics
// on an error.
func MustValue(v any) *structpb.Value {
	value, err := ToValue(v)
	if err != nil {
		panic(err)
	}
	return value
}

func toValue(v any, path string) (*structpb.Value, error) {
	switch x := v.(type) {
	case nil:
		return structpb.NewNullValue(), nil
	case *structpb.Value:
		if x == nil {
			return structpb.NewNullValue(), nil
		}
		return x, nil
	case *structpb.Struct:
		return structpb.NewStructValue(x), nil
	case *structpb.ListValue:
		return structpb.NewListValue(x), nil
	case bool:
		return structpb.NewBoolValue(x), nil
	case string:
		return structpb.NewStringValue(x), nil
	case int:
		return intValue(int64(x), path)
	case int8:
		return intValue(int64(x), path)
	case int16:
		return intValue(int64(x), path)
	case int32:
		return intValue(int64(x), path)
	case int64:
		return intValue(x, path)
	case uint:
		return uintValue(uint64(x), path)
	case uint8:
		return uintValue(uint64(x), path)
	case uint16:
		return uintValue(uint64(x), path)
	case uint32:
		return uintValue(uint64(x), path)
	case uint64:
		return uintValue(x, path)
	case float32:
		return floatValue(float64(x), path)
	case float64:
		return floatValue(x, path)
	case json.Number:
		return numberValue(x, path)
	case json.RawMessage:
		return jsonValue(x, path)
	case []any:
		list := &structpb.ListValue{Values: make([]*structpb.Value, len(x))}
		for i, item := range x {
			converted, err := toValue(item, path+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			list.Values[i] = converted
		}
		return structpb.NewListValue(list), nil
	case map[string]any:
		object := &structpb.Struct{Fields: make(map[string]*structpb.Value, len(x))}
		for key, item := range x {
			converted, err := toValue(item, path+"."+key)
			if err != nil {
				return nil, err
			}
			object.Fields[key] = converted
		}
		return structpb.NewStructValue(object), nil
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Ptr && rv.IsNil() {
		return structpb.NewNullValue(), nil
	}
	// Structs, typed slices and maps, json.Marshaler implementations: through encoding/json.
	encoded, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("baton: %s: %T is not a JSON value: %w", path, v, err)
	}
	return jsonValue(encoded, path)
}

func intValue(i int64, path string) (*structpb.Value, error) {
	if i > MaxExactInt || i < -MaxExactInt {
		return nil, fmt.Errorf("baton: %s: integer %d is beyond ±2^53, which a JSON number cannot carry exactly (send it as a string)", path, i)
	}
	return structpb.NewNumberValue(float64(i)), nil
}

func uintValue(u uint64, path string) (*structpb.Value, error) {
	if u > MaxExactInt {
		return nil, fmt.Errorf("baton: %s: integer %d is beyond 2^53, which a JSON number cannot carry exactly (send it as a string)", path, u)
	}
	return structpb.NewNumberValue(float64(u)), nil
}

func floatValue(f float64, path string) (*structpb.Value, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("baton: %s: %v is not a JSON number", path, f)
	}
	return structpb.NewNumberValue(f), nil
}

func numberValue(n json.Number, path string) (*structpb.Value, error) {
	if !strings.ContainsAny(string(n), ".eE") { // an integer literal: it must be exact
		i, err := n.Int64()
		if err != nil {
			return nil, fmt.Errorf("baton: %s: integer %s is beyond ±2^53, which a JSON number cannot carry exactly (send it as a string)", path, string(n))
		}
		return intValue(i, path)
	}
	f, err := n.Float64()
	if err != nil {
		return nil, fmt.Errorf("baton: %s: %q is not a JSON number", path, string(n))
	}
	return floatValue(f, path)
}

// jsonValue decodes JSON text, keeping numbers as json.Number so integers are checked exactly.
func jsonValue(text []byte, path string) (*structpb.Value, error) {
	decoder := json.NewDecoder(bytes.NewReader(text))
	decoder.UseNumber()
	var decoded any
	if err := decoder.Decode(&decoded); err != nil {
		return nil, fmt.Errorf("baton: %s: invalid JSON: %w", path, err)
	}
	if decoder.More() {
		return nil, fmt.Errorf("baton: %s: invalid JSON: more than one value", path)
	}
	return toValue(decoded, path)
}

// FromValue converts a JSON value from the API to plain Go values: nil, bool, string, int64,
// float64, []any and map[string]any.
//
// Numbers: JSON has one number type, carried as a double. A number that is whole and within
// ±2^53 comes back as int64 (so {"i": 7} stays {"i": 7} when printed, and type switches on
// int64 work); any other number comes back as float64. A nil *structpb.Value is JSON null (nil).
func FromValue(v *structpb.Value) any {
	if v == nil {
		return nil
	}
	switch kind := v.GetKind().(type) {
	case *structpb.Value_BoolValue:
		return kind.BoolValue
	case *structpb.Value_StringValue:
		return kind.StringValue
	case *structpb.Value_NumberValue:
		f := kind.NumberValue
		if f == math.Trunc(f) && f >= -MaxExactInt && f <= MaxExactInt {
			return int64(f)
		}
		return f
	case *structpb.Value_ListValue:
		items := kind.ListValue.GetValues()
		out := make([]any, len(items))
		for i, item := range items {
			out[i] = FromValue(item)
		}
		return out
	case *structpb.Value_StructValue:
		fields := kind.StructValue.GetFields()
		out := make(map[string]any, len(fields))
		for key, item := range fields {
			out[key] = FromValue(item)
		}
		return out
	default: // null, or no kind set
		return nil
	}
}

// Decode stores a JSON value from the API in out (a pointer), the way encoding/json would
// unmarshal its JSON text: structs with json tags, typed slices and maps, integers into int
// fields. A nil value is JSON null and leaves out unchanged.
func Decode(v *structpb.Value, out any) error {
	if v == nil {
		return nil
	}
	text, err := protojson.Marshal(v)
	if err != nil {
		return fmt.Errorf("baton: decode: %w", err)
	}
	if err := json.Unmarshal(text, out); err != nil {
		return fmt.Errorf("baton: decode %s into %T: %w", abbreviate(text), out, err)
	}
	return nil
}

// JSON renders a JSON value from the API as compact JSON text with sorted keys and integers
// without a fraction ("null" for nil).
func JSON(v *structpb.Value) string {
	text, err := json.Marshal(FromValue(v))
	if err != nil { // unreachable: FromValue yields only JSON-encodable values
		return fmt.Sprintf("<%v>", err)
	}
	return string(text)
}

func abbreviate(text []byte) string {
	const limit = 120
	if len(text) <= limit {
		return string(text)
	}
	return string(text[:limit]) + "…"
}

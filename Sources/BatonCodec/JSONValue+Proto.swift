import BatonCore
import SwiftProtobuf

extension JSONValue {
    /// Converts a `google.protobuf.Value` (an unset value is JSON null).
    public init(proto value: Google_Protobuf_Value) {
        switch value.kind {
        case .nullValue, nil: self = .null
        case .numberValue(let number): self = .number(number)
        case .stringValue(let string): self = .string(string)
        case .boolValue(let bool): self = .bool(bool)
        case .structValue(let object): self = JSONValue(proto: object)
        case .listValue(let list): self = .array(list.values.map(JSONValue.init(proto:)))
        }
    }

    /// Converts a `google.protobuf.Struct`.
    public init(proto object: Google_Protobuf_Struct) {
        self = .object(object.fields.mapValues(JSONValue.init(proto:)))
    }

    /// This value as a `google.protobuf.Value`.
    public var proto: Google_Protobuf_Value {
        switch self {
        case .null: Google_Protobuf_Value.with { $0.nullValue = .nullValue }
        case .bool(let bool): Google_Protobuf_Value(boolValue: bool)
        case .number(let number): Google_Protobuf_Value(numberValue: number)
        case .string(let string): Google_Protobuf_Value(stringValue: string)
        case .array(let items): Google_Protobuf_Value(listValue: Google_Protobuf_ListValue(values: items.map(\.proto)))
        case .object: Google_Protobuf_Value(structValue: protoStruct)
        }
    }

    /// This value as a `google.protobuf.Struct` (empty unless it is an object).
    public var protoStruct: Google_Protobuf_Struct {
        guard case .object(let members) = self else { return Google_Protobuf_Struct() }
        return Google_Protobuf_Struct(fields: members.mapValues(\.proto))
    }
}

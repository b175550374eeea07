import Foundation

/// Any JSON value, for the contract's family-specific objects (preprocessing, postprocessing, checks).
public enum JSONValue: Codable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The value as an integer, if it is a number with no fraction.
    public var intValue: Int? {
        if case .number(let value) = self, value.rounded() == value, abs(value) < 9e15 {
            return Int(value)
        }
        return nil
    }

    public var stringValue: String? {
        if case .string(let value) = self {
            return value
        }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self {
            return value
        }
        return nil
    }
}

extension JSONValue {
    /// Compact JSON text; an object's keys in `keyOrder` first (in that order), then the rest sorted.
    /// (Foundation's JSONEncoder keeps no key order on Linux; a report's stages must stay in run order.)
    public func serialized(keyOrder: [String] = []) -> String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .number(let value):
            if value.rounded() == value && abs(value) < 1e15 {
                return String(Int64(value))
            }
            return value.isFinite ? "\(value)" : "null"
        case .string(let value): return JSONValue.quoted(value)
        case .array(let values): return "[" + values.map { $0.serialized() }.joined(separator: ", ") + "]"
        case .object(let fields):
            let first = keyOrder.filter { fields[$0] != nil }
            let keys = first + fields.keys.filter { !first.contains($0) }.sorted()
            return "{" + keys.map { JSONValue.quoted($0) + ": " + fields[$0]!.serialized() }.joined(separator: ", ")
                + "}"
        }
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/**
 * Small ONNX models written in code (protobuf by hand, ~15 lines, rather than shipping files or a
 * protobuf library in the Lambda bundle): the gallery search's MatMul (match.ts) and its int8
 * coarse pass with the templates as a constant initializer (quantized-search.ts). Only the
 * fields those models use: ModelProto{ir_version 1, graph 7, opset_import 8}, GraphProto{node 1,
 * name 2, initializer 5, input 11, output 12}, NodeProto{input 1, output 2, op_type 4,
 * attribute 5, domain 7}, AttributeProto{name 1, i 3, type 20}, TensorProto{dims 1,
 * data_type 2, name 8, raw_data 9}, ValueInfoProto{name 1, type 2}. Byte arrays are joined
 * once (Buffer.concat), so a 51 MB initializer is copied once.
 */

/** onnx.TensorProto.DataType values used here. */
export const ONNX_TYPE = { float: 1, uint8: 2, int8: 3, int32: 6 } as const;
type OnnxType = (typeof ONNX_TYPE)[keyof typeof ONNX_TYPE];

/** A message or field as a list of byte chunks: nesting only adds a tag and a length in front,
 * so a large initializer is copied once, when the model is joined (onnxModel). */
type Bytes = readonly Uint8Array[];

function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
}

const join = (parts: readonly Bytes[]): Bytes => parts.flat();
const lengthOf = (b: Bytes) => b.reduce((n, c) => n + c.length, 0);

/** A length-delimited field (wire type 2). */
const bytesField = (no: number, ...parts: Bytes[]): Bytes => {
  const body = join(parts);
  return [varint((no << 3) | 2), varint(lengthOf(body)), ...body];
};
const stringField = (no: number, s: string): Bytes => bytesField(no, [Buffer.from(s, 'utf8')]);
/** A varint field (wire type 0), non-negative values. */
const intField = (no: number, n: number): Bytes => [varint(no << 3), varint(n)];

/** ValueInfoProto of a tensor input or output: name, element type, dims (names or sizes). */
export function tensorInfo(name: string, type: OnnxType, dims: readonly (string | number)[]): Bytes {
  const shape = dims.map((d) => bytesField(1, typeof d === 'string' ? stringField(2, d) : intField(1, d)));
  const tensorType = join([intField(1, type), bytesField(2, ...shape)]);
  return join([stringField(1, name), bytesField(2, bytesField(1, tensorType))]);
}

/** TensorProto of a constant (an initializer): raw little-endian bytes. */
export function initializer(name: string, type: OnnxType, dims: readonly number[], raw: Uint8Array): Bytes {
  return join([
    ...dims.map((d) => intField(1, d)),
    intField(2, type),
    stringField(8, name),
    bytesField(9, [raw]),
  ]);
}

interface NodeSpec {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  domain?: string;
  /** Integer attributes (a number) and integer-list attributes (an array). */
  ints?: Record<string, number | readonly number[]>;
}

function node(n: NodeSpec): Bytes {
  const attributes = Object.entries(n.ints ?? {}).map(([name, i]) =>
    typeof i === 'number'
      ? bytesField(5, stringField(1, name), intField(3, i), intField(20, 2 /* INT */))
      : bytesField(5, stringField(1, name), ...i.map((v) => intField(8, v)), intField(20, 7 /* INTS */)),
  );
  return join([
    ...n.inputs.map((i) => stringField(1, i)),
    ...n.outputs.map((o) => stringField(2, o)),
    stringField(4, n.op),
    ...attributes,
    ...(n.domain ? [stringField(7, n.domain)] : []),
  ]);
}

interface ModelSpec {
  name: string;
  nodes: readonly NodeSpec[];
  /** tensorInfo()s */
  inputs: readonly Bytes[];
  outputs: readonly Bytes[];
  /** initializer()s */
  initializers?: readonly Bytes[];
  /** Opset per domain ('' is the default ONNX domain). */
  opsets: Record<string, number>;
}

/** ModelProto bytes (IR version 8). */
export function onnxModel(m: ModelSpec): Uint8Array {
  const graph = bytesField(
    7,
    ...m.nodes.map((n) => bytesField(1, node(n))),
    stringField(2, m.name),
    ...(m.initializers ?? []).map((t) => bytesField(5, t)),
    ...m.inputs.map((i) => bytesField(11, i)),
    ...m.outputs.map((o) => bytesField(12, o)),
  );
  const opsets = Object.entries(m.opsets).map(([domain, version]) =>
    bytesField(8, stringField(1, domain), intField(2, version)),
  );
  const model = Buffer.concat(join([intField(1, 8), graph, ...opsets]));
  return new Uint8Array(model.buffer, model.byteOffset, model.byteLength);
}

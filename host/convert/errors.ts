// The one error type of the converter: a message meant for the person running
// `axformer convert`, naming the file and the tensor or field at fault.
export class ConvertError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConvertError";
  }
}

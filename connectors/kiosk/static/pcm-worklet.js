// AudioWorklet: microphone samples (any context rate) -> 16 kHz mono signed 16-bit PCM chunks.
// Downsampling averages the input samples that fall into each output sample (a box filter,
// enough against aliasing for speech recognition) and keeps its phase across blocks.
class PcmDownsampler extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.targetRate = (options.processorOptions && options.processorOptions.targetRate) || 16000;
    this.ratio = sampleRate / this.targetRate;
    this.chunk = new Int16Array(Math.round(this.targetRate / 10)); // 100 ms per message
    this.filled = 0;
    this.acc = 0;
    this.count = 0;
    this.pos = 0; // input position, in input samples, of the next output sample boundary
    this.port.onmessage = (e) => { if (e.data === "flush") this.flush(); };
  }
  flush() {
    if (this.filled > 0) {
      this.port.postMessage(this.chunk.slice(0, this.filled).buffer, []);
      this.filled = 0;
    }
  }
  push(v) {
    const s = Math.max(-1, Math.min(1, v));
    this.chunk[this.filled++] = s < 0 ? s * 0x8000 : s * 0x7fff;
    if (this.filled === this.chunk.length) {
      this.port.postMessage(this.chunk.slice().buffer, []);
      this.filled = 0;
    }
  }
  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const n = input[0].length;
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let c = 0; c < input.length; c++) v += input[c][i];
      this.acc += v / input.length;
      this.count++;
      this.pos += 1;
      if (this.pos >= this.ratio) {
        this.pos -= this.ratio;
        this.push(this.acc / this.count);
        this.acc = 0;
        this.count = 0;
      }
    }
    return true;
  }
}
registerProcessor("pcm-downsampler", PcmDownsampler);

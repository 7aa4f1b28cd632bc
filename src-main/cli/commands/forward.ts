// `deformux forward`: runs a model folder on an NCDHW .npy input; optionally writes the gradients of sum(Y*G).
import { UsageError } from '../index';
import { parseCliArgs } from '../args';
import { InputError } from '../../imaging/volume';
import { initEngine, tf } from '../../engine/tf';
import { loadModelFolder } from '../../engine/io/model_folder';
import { readNpy, writeNpy } from '../../engine/io/npy';
import { writeSafetensors } from '../../engine/io/safetensors';
import { forwardWithGrads } from '../../engine/model/grads';
import { checkSpatial } from '../../engine/model/config';

const HELP = `Usage: deformux forward --model DIR --input X.npy --output Y.npy [--grad-output G.npy --grads-out GRADS.safetensors]

  --model DIR          model folder (config.json, weights.safetensors, model.json)
  --input X.npy        float32 [1, in_channels, D, H, W] (NCDHW; D, H, W multiples of 16)
  --output Y.npy       logits float32 [1, classes, D, H, W]
  --grad-output G.npy  G, same shape as Y; with --grads-out writes d sum(Y*G) / d every parameter
  --grads-out FILE     safetensors with PyTorch names and layouts, plus 'input'`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCliArgs(
    argv,
    {
      model: { type: 'string' },
      input: { type: 'string' },
      output: { type: 'string' },
      'grad-output': { type: 'string' },
      'grads-out': { type: 'string' },
    },
    HELP,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  const modelDir = values.model as string | undefined;
  const inputPath = values.input as string | undefined;
  const outputPath = values.output as string | undefined;
  const gradOutPath = values['grad-output'] as string | undefined;
  const gradsPath = values['grads-out'] as string | undefined;
  if (!modelDir || !inputPath || !outputPath)
    throw new UsageError(`--model, --input and --output are required.\n${HELP}`);
  if (!!gradOutPath !== !!gradsPath) throw new UsageError('--grad-output and --grads-out go together.');

  await initEngine();
  const { net, config } = await loadModelFolder(modelDir);
  try {
    const x = await readNpy(inputPath);
    if (x.shape.length !== 5 || x.shape[0] !== 1 || x.shape[1] !== config.in_channels) {
      throw new InputError(
        inputPath,
        `has shape (${x.shape.join(', ')}); expected (1, ${config.in_channels}, D, H, W)`,
      );
    }
    checkSpatial(x.shape.slice(2), inputPath);
    const input = tf.tensor5d(Float32Array.from(x.data), x.shape as [number, number, number, number, number]);
    const outShape = [1, config.out_channels, ...x.shape.slice(2)];
    if (gradOutPath && gradsPath) {
      const g = await readNpy(gradOutPath);
      if (g.shape.join(',') !== outShape.join(',')) {
        throw new InputError(
          gradOutPath,
          `has shape (${g.shape.join(', ')}); expected the output shape (${outShape.join(', ')})`,
        );
      }
      const gT = tf.tensor5d(Float32Array.from(g.data), g.shape as [number, number, number, number, number]);
      const { logits, grads } = forwardWithGrads(net, input, gT);
      tf.dispose([input, gT]);
      await writeNpy(outputPath, logits);
      await writeSafetensors(gradsPath, grads);
    } else {
      const y = net.forwardNcdhw(input);
      const data = (await y.data()) as Float32Array;
      tf.dispose([input, y]);
      await writeNpy(outputPath, { shape: outShape, data });
    }
  } finally {
    net.dispose();
  }
  return 0;
}

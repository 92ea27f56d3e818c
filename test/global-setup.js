// jest loads global setup outside its module transform; tsx loads the TypeScript behind it.
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  const stack = await tsImport('./stack-setup.ts', import.meta.url);
  await stack.startTestStack();
}

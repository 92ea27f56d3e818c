import { tsImport } from 'tsx/esm/api';

export default async function globalTeardown() {
  const stack = await tsImport('./stack-setup.ts', import.meta.url);
  await stack.stopTestStack();
}

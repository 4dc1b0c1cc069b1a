/** placeholder */
import type { TextOut } from '../../core/text-out.ts';
export async function k8sCommand(_argv: string[], _out: TextOut): Promise<number> {
  return 2;
}

import { describe, expect, it } from 'vitest';
import { ApiFailure } from '../../shared';
import { fromApiId, toApiId } from './ids';

describe('api ids', () => {
  it('ids - row ids round-trip as 32 hex characters and anything else is NOT_FOUND', () => {
    expect(toApiId(1)).toBe('00000000000000000000000000000001');
    expect(fromApiId(toApiId(123456), 'contact')).toBe(123456);
    for (const bad of ['00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff', '0000000000000000000000000000001', '0000000000000000000000000000000g']) {
      expect(() => fromApiId(bad, 'contact')).toThrow(ApiFailure);
    }
  });
});

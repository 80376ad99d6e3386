import { describe, expect, it } from 'vitest';
import { balanceBidi, displayLabel, displayText, plainLabel } from './display-text';

const RLO = '\u202e';
const LRE = '\u202a';
const PDF = '\u202c';
const RLI = '\u2067';
const PDI = '\u2069';

describe('display text', () => {
  it('leaves ordinary text, including right-to-left script, untouched', () => {
    expect(balanceBidi('hello')).toBe('hello');
    expect(balanceBidi('שלום עולם')).toBe('שלום עולם');
  });

  it('closes an override the text leaves open', () => {
    expect(balanceBidi(`${RLO}gnp.exe`)).toBe(`${RLO}gnp.exe${PDF}`);
    expect(balanceBidi(`a${RLO}b${RLI}c`)).toBe(`a${RLO}b${RLI}c${PDI}${PDF}`);
  });

  it('drops closers that match nothing, so text cannot close the page’s own context', () => {
    expect(balanceBidi(`${PDF}${PDI}x${PDF}`)).toBe('x');
  });

  it('lets an isolate terminator close the embeddings opened inside it', () => {
    expect(balanceBidi(`${RLI}${LRE}x${PDI}y`)).toBe(`${RLI}${LRE}x${PDF}${PDI}y`);
  });

  it('does not let a PDF close an embedding outside the current isolate', () => {
    expect(balanceBidi(`${LRE}${RLI}x${PDF}`)).toBe(`${LRE}${RLI}x${PDI}${PDF}`);
  });

  it('bounds nesting depth', () => {
    const deep = balanceBidi(RLO.repeat(1000));
    expect([...deep].filter((c) => c === RLO).length).toBe(125);
    expect([...deep].filter((c) => c === PDF).length).toBe(125);
  });

  it('drops overrides and embeddings for display, so a name cannot read "exe.png"', () => {
    expect(displayText(`Mallory ${RLO}gnp.exe`)).toBe('Mallory gnp.exe');
    expect(displayText(`a${LRE}b${PDF}c`)).toBe('abc');
    expect(displayText(`${RLI}שלום`)).toBe(`${RLI}שלום${PDI}`);
  });

  it('removes control characters but keeps newlines and tabs', () => {
    expect(displayText('a\u0000b\u0007c\r\nd\te\u009b')).toBe('abc\nd\te');
  });

  it('folds line breaks in single-line labels', () => {
    expect(displayLabel('Mallory\n\n\u2028Admin')).toBe('Mallory Admin');
  });
});

describe('plain label', () => {
  it('removes bidi controls entirely and cuts to length', () => {
    expect(plainLabel('\u202eevil\u202c  name\n', 64)).toBe('evil name');
    expect(plainLabel('abcdef', 4)).toBe('abc…');
  });
});

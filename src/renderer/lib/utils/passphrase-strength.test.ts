import { describe, expect, it } from 'vitest';
import { estimateStrength } from './passphrase-strength';

describe('passphrase strength', () => {
  it('rates an empty passphrase very weak', () => {
    expect(estimateStrength('').score).toBe(0);
  });

  it('rates the most common passwords very weak, whatever their decoration', () => {
    for (const p of ['password', 'Password1', 'P@ssw0rd!', 'qwerty123', 'letmein', '123456789', 'aaaaaaaaaaaa', 'abcdefghijk']) {
      expect(estimateStrength(p).score, p).toBeLessThanOrEqual(1);
    }
  });

  it('caps short passphrases at weak even with a large alphabet', () => {
    const s = estimateStrength('x7$Qz!');
    expect(s.score).toBeLessThanOrEqual(1);
  });

  it('rates several unrelated words as good or better', () => {
    expect(estimateStrength('correct horse battery staple').score).toBeGreaterThanOrEqual(3);
    expect(estimateStrength('violet tractor umbrella gossip lantern').score).toBe(4);
  });

  it('rates a long random string as strong', () => {
    expect(estimateStrength('k9#Tq2!vX8@mZr4%Lw').score).toBe(4);
  });

  it('gives less credit for repeating a part and for the user name', () => {
    const once = estimateStrength('tractor umbrella');
    const twice = estimateStrength('tractor umbrellatractor umbrella');
    expect(twice.bits).toBeLessThanOrEqual(once.bits + 2);
    const named = estimateStrength('alice alice alice 2024', ['Alice Smith']);
    expect(named.score).toBeLessThanOrEqual(1);
    expect(named.feedback).toContain('Avoid your own name.');
  });

  it('prices years and digit sequences low', () => {
    expect(estimateStrength('1987').bits).toBeLessThan(10);
    expect(estimateStrength('0123456789').bits).toBeLessThan(12);
    expect(estimateStrength('8302749152').bits).toBeGreaterThan(30);
  });

  it('is monotone in adding a random word', () => {
    const a = estimateStrength('harbor quiet');
    const b = estimateStrength('harbor quiet sprocket');
    expect(b.bits).toBeGreaterThan(a.bits);
    expect(b.score).toBeGreaterThanOrEqual(a.score);
  });

  it('always gives advice below good', () => {
    const s = estimateStrength('harbor quiet');
    expect(s.score).toBeLessThan(3);
    expect(s.feedback.length).toBeGreaterThan(0);
  });
});

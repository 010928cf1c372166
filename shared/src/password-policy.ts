/**
 * The password policy (NIST SP 800-63B style): a length floor, no length-killing composition rules,
 * and a refusal of passwords every guessing list starts with. The list holds the most common
 * leaked passwords of 8+ characters (shorter ones fail the length rule anyway), lower-case.
 */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;

const COMMON = [
  '12345678', '123456789', '1234567890', '12345678910', '123123123', '11111111', '00000000', '88888888',
  '87654321', '987654321', '0987654321', '1q2w3e4r', '1q2w3e4r5t', '1qaz2wsx', 'qwertyuiop', 'qwerty123',
  'qwerty12', 'qwertyui', 'asdfghjkl', 'asdfasdf', 'zxcvbnm1', 'password', 'password1', 'password12',
  'password123', 'passw0rd', 'p@ssw0rd', 'p@ssword', 'pa$$word', 'iloveyou', 'iloveyou1', 'sunshine',
  'princess', 'football', 'baseball', 'basketball', 'welcome1', 'welcome123', 'admin123', 'administrator',
  'changeme', 'changeme1', 'letmein1', 'trustno1', 'superman', 'batman123', 'starwars', 'whatever',
  'computer', 'internet', 'michelle', 'jennifer', 'jordan23', 'corvette', 'mercedes', 'midnight',
  'abcd1234', 'abc12345', 'abcdefgh', 'aa123456', 'a1b2c3d4', 'q1w2e3r4', 'zaq12wsx', 'qazwsxedc',
  'master123', 'mustang1', 'monkey123', 'dragon123', 'shadow12', 'pokemon1', 'samsung1', 'chocolate',
  'butterfly', 'liverpool', 'chelsea1', 'arsenal1', 'december', 'november', 'september', 'raspberry',
  'raspberrypi', 'pikvm123', 'edgehook', 'edgehook1', 'edgehook123', 'default1', 'test1234', 'testtest',
  'secret123', 'qwer1234', 'asdf1234', 'zxcv1234', 'love1234', 'summer2024', 'winter2024', 'spring2024',
  'autumn2024', 'summer2025', 'winter2025', 'summer2026', 'winter2026', 'password2024', 'password2025',
  'password2026', 'letmeinnow', 'admin1234', 'root1234', 'toor1234', 'ubuntu123', 'debian123',
];
const COMMON_SET = new Set(COMMON);

/** Why a password is refused, or undefined when it passes. `context` (username, email) may not be the password. */
export function passwordProblem(password: string, context: string[] = []): string | undefined {
  if (password.length < PASSWORD_MIN_LENGTH) return `passwords have at least ${PASSWORD_MIN_LENGTH} characters`;
  if (password.length > PASSWORD_MAX_LENGTH) return `passwords have at most ${PASSWORD_MAX_LENGTH} characters`;
  const lower = password.toLowerCase();
  if (COMMON_SET.has(lower)) return 'this password is on the list of the most common passwords; choose another';
  if (/^(.)\1+$/.test(password)) return 'a password of one repeated character is too easy to guess';
  for (const c of context) if (c && lower === c.toLowerCase()) return 'the password may not be your username or email';
  return undefined;
}

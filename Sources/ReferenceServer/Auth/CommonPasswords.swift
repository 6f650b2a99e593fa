/// Passwords that lists of leaked passwords show people choosing most, at 8 characters or more
/// (shorter ones fail the length rule anyway), lower-cased. A small built-in list: a deployment
/// that wants a full breach corpus would add a lookup beside it.
enum CommonPasswords {
    static func contains(_ folded: String) -> Bool { list.contains(folded) }

    private static let list: Set<String> = [
        "password", "password1", "password12", "password123", "password1234", "password12345", "passwordpassword",
        "passw0rd", "p@ssw0rd", "p@ssword", "pa$$word", "12345678", "123456789", "1234567890", "12345678910",
        "123456789a", "123456789abc", "1234567890123", "0123456789", "987654321", "9876543210", "11111111",
        "00000000", "88888888", "12341234", "12344321", "11223344", "123123123", "147258369", "159753456",
        "741852963", "qwertyui", "qwertyuiop", "qwerty123", "qwerty12", "qwerty1234", "qwertyuiop123", "qwertyqwerty",
        "asdfghjk", "asdfghjkl", "zxcvbnm1", "1q2w3e4r", "1q2w3e4r5t", "1q2w3e4r5t6y", "q1w2e3r4", "q1w2e3r4t5",
        "1qaz2wsx", "1qaz2wsx3edc", "zaq12wsx", "zaq1zaq1", "qazwsxedc", "123qweasd", "qweasdzxc", "qwe123qwe",
        "a1b2c3d4", "aa123456", "abc12345", "abcd1234", "1234qwer", "1234abcd", "abcdefgh", "iloveyou",
        "iloveyou1", "iloveyou12", "iloveyou1234", "sunshine", "sunshine1", "princess", "princess1", "football",
        "football1", "football123", "baseball", "baseball1", "basketball", "welcome1", "welcome123", "welcome2024",
        "welcome2025", "welcome2026", "trustno1", "superman", "superman1", "batman123", "whatever", "letmein1",
        "letmein123", "letmeinletmein", "admin123", "admin1234", "administrator", "administrator1", "changeme",
        "changeme123", "starwars", "starwars1", "michael1", "jennifer", "computer", "corvette", "mercedes",
        "mustang1", "internet", "samsung1", "master12", "dragon12", "monkey12", "shadow12", "freedom1",
        "maverick", "hello123", "helloworld", "charlie1", "jordan23", "liverpool", "liverpool1", "chelsea1",
        "arsenal1", "babygirl", "babygirl1", "butterfly", "lovely12", "unbelievable", "everything", "chocolate",
        "pokemon1", "minecraft", "fortnite1", "spiderman", "blink182", "123abc123", "abc123abc", "azerty123",
        "azertyuiop", "motdepasse", "motdepasse1", "bienvenue", "soleil123", "contrasena", "contraseña",
        "contrasena1", "contraseña1", "passwort", "passwort1", "correcthorsebatterystaple", "summer2024",
        "summer2025", "summer2026", "winter2024", "winter2025", "spring2025", "autumn2025", "january2025",
        "qwerty123456", "1234567891", "12121212", "123321123", "1q2w3e4r5t6y7u8i", "zxcvbnm123", "asdf1234",
        "asdfasdf", "qwer1234", "passpass", "secret123", "security", "princesa", "tequiero", "teamo123",
        "mariposa", "estrella", "jetaime", "doudou123", "chouchou",
    ]
}

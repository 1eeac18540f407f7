namespace Bot.Core;

public static class Clock
{
    public static long ToUnixMs(this DateTimeOffset value) => value.ToUnixTimeMilliseconds();
    public static DateTimeOffset FromUnixMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}

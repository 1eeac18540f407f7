namespace Bot.Dispatch;

/// <summary>Who a send is for, so a sender's capacity is shared fairly: employers in turn, and each one's announcements in turn.</summary>
/// <param name="Group">The employer (or <c>replies</c> for the bot's answers).</param>
/// <param name="Id">The announcement, or anything that names one stream of sends within the group.</param>
/// <param name="Urgent">Served before every lane that is not.</param>
public readonly record struct SendLane(string Group, string Id, bool Urgent = false)
{
    public static readonly SendLane Replies = new("replies", "replies");
}

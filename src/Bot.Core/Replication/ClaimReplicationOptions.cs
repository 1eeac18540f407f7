using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace Bot.Core.Replication;

/// <summary>The <c>Redis</c> section's settings for <see cref="ClaimReplication"/>.</summary>
public sealed class ClaimReplicationOptions
{
    public const string SectionName = "Redis";
    public const string Auto = "auto";

    /// <summary>
    /// How many replicas must hold a delivery claim before its message goes: <c>auto</c> (1 when the primary reports a
    /// connected replica, else 0) or a number.
    /// </summary>
    public string ClaimReplicas { get; set; } = Auto;

    /// <summary>How long one <c>WAIT</c> for those replicas may take before the claims it covers are given back.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:30", ErrorMessage = "Redis:{0} must be between {1} and {2}.")]
    public TimeSpan ClaimReplicaTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a sender pauses after a claim went unacknowledged, before it tries again.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00", ErrorMessage = "Redis:{0} must be between {1} and {2}.")]
    public TimeSpan ClaimReplicaPause { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The fixed number of replicas, or null for <c>auto</c>.</summary>
    public int? FixedReplicas =>
        string.Equals(ClaimReplicas.Trim(), Auto, StringComparison.OrdinalIgnoreCase) ? null
        : int.Parse(ClaimReplicas, NumberStyles.None, CultureInfo.InvariantCulture);

    public bool IsValid() =>
        string.Equals(ClaimReplicas?.Trim(), Auto, StringComparison.OrdinalIgnoreCase) ||
        (int.TryParse(ClaimReplicas, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= 16);
}

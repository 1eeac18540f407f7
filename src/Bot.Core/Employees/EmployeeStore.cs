using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Core.Employees;

public sealed class EmployeeStore(IDatabase db, TimeProvider time)
{
    private readonly WhatsAppUserIds userIds = new(db);

    /// <summary>Creates or replaces an employee: name and attributes as given (null = not set).</summary>
    public async Task<(UpsertResult Result, string? ConflictingEmployeeId)> UpsertAsync(
        string employerId, string employeeId, string phone, string? name, EmployeeAttributes? attributes = null)
    {
        var a = attributes ?? EmployeeAttributes.None;
        var reply = (RedisResult[])(await db.ScriptEvaluateAsync(LuaScripts.UpsertEmployee,
            [RedisKeys.Employee(employerId, employeeId), RedisKeys.Phones(employerId), RedisKeys.Employees(employerId)],
            [employeeId, phone, name ?? "", time.GetUtcNow().ToUnixMs(), "put",
                a.Department ?? "", a.Location ?? "", a.Language ?? "", a.TimeZone ?? "",
                string.Join(EmployeeAttributeRules.TagSeparator, a.TagList)]))!;
        var result = (string?)reply[0] switch
        {
            "created" => UpsertResult.Created,
            "updated" => UpsertResult.Updated,
            "unchanged" => UpsertResult.Unchanged,
            _ => UpsertResult.PhoneConflict,
        };
        if (result == UpsertResult.PhoneConflict) return (result, (string?)reply[1]);
        // Also on "unchanged": a retried PUT repairs an index entry its first attempt died before writing.
        await IndexPhoneAsync(employerId, employeeId, phone);
        await LeftNumberAsync(employerId, employeeId, phone, reply);
        return (result, null);
    }

    /// <summary>
    /// Moves an existing employee to a new phone and keeps the name (WhatsApp <c>JOIN</c>): the old number is
    /// unlinked in the same step, delivery history (keyed by employee id) is untouched.
    /// </summary>
    public async Task<RelinkResult> RelinkPhoneAsync(string employerId, string employeeId, string phone)
    {
        var reply = (RedisResult[])(await db.ScriptEvaluateAsync(LuaScripts.UpsertEmployee,
            [RedisKeys.Employee(employerId, employeeId), RedisKeys.Phones(employerId), RedisKeys.Employees(employerId)],
            [employeeId, phone, "", time.GetUtcNow().ToUnixMs(), "relink"]))!;
        var result = (string?)reply[0] switch
        {
            "updated" => RelinkResult.Linked,
            "unchanged" => RelinkResult.Unchanged,
            "missing" => RelinkResult.NotFound,
            _ => RelinkResult.PhoneConflict,
        };
        if (result is RelinkResult.Linked or RelinkResult.Unchanged) await IndexPhoneAsync(employerId, employeeId, phone);
        await LeftNumberAsync(employerId, employeeId, phone, reply);
        return result;
    }

    /// <summary>
    /// After a phone change (the script's <c>updated</c> reply names the previous phone and WhatsApp id): the global
    /// indexes stop naming the employee under the number they left, and the BSUIDs of that number's WhatsApp account
    /// are forgotten (a new number is a new account, with new BSUIDs). A racing change back to the old number can
    /// lose its index member here; the employer's next PUT of that number adds it again.
    /// </summary>
    private async Task LeftNumberAsync(string employerId, string employeeId, string phone, RedisResult[] reply)
    {
        if ((string?)reply[0] != "updated" || reply.Length < 3 || (string?)reply[1] is not { Length: > 0 } oldPhone || oldPhone == phone) return;
        await UnindexAsync(employerId, employeeId, oldPhone, (string?)reply[2]);
        await userIds.ForgetAsync(employerId, employeeId);
    }

    private async Task UnindexAsync(string employerId, string employeeId, string phone, string? waId)
    {
        var member = $"{employerId}:{employeeId}";
        await db.SetRemoveAsync(RedisKeys.PhoneOwners(phone), member);
        if (waId is { Length: > 0 }) await db.SetRemoveAsync(RedisKeys.PhoneOwners("+" + waId), member);
    }

    /// <summary>
    /// The employees (of any employer) an inbound WhatsApp message from <paramref name="waId"/> comes from, not removed:
    /// per employer, those whose stored WhatsApp id is it, else those whose current phone is <paramref name="phone"/>.
    /// </summary>
    public async Task<IReadOnlyList<(string EmployerId, Employee Employee)>> FindByWhatsAppIdAsync(string waId, string phone)
    {
        var keys = new[] { RedisKeys.PhoneOwners("+" + waId), RedisKeys.PhoneOwners(phone) }.Distinct().ToArray();
        var members = (await Task.WhenAll(keys.Select(k => db.SetMembersAsync(k)))).SelectMany(m => m).Distinct();
        var owners = members.Select(m => ((string)m!).Split(':', 2)).Where(p => p.Length == 2).ToArray();
        var batch = db.CreateBatch();
        var reads = owners.Select(o => batch.HashGetAsync(RedisKeys.Employee(o[0], o[1]), EmployeeFields)).ToArray();
        batch.Execute();
        var values = await Task.WhenAll(reads);
        var found = new List<(string EmployerId, Employee Employee, bool ByWaId)>();
        for (var i = 0; i < owners.Length; i++)
        {
            // The employee hash is the truth; the global index may lag behind a phone change or a removal.
            if (ToEmployee(owners[i][1], values[i]) is not { Status: not EmployeeStatus.Removed } e) continue;
            if (e.WaId == waId) found.Add((owners[i][0], e, true));
            else if (e.Phone == phone) found.Add((owners[i][0], e, false));
        }
        return [.. found.GroupBy(f => f.EmployerId)
            .SelectMany(g => g.Any(f => f.ByWaId) ? g.Where(f => f.ByWaId) : g)
            .Select(f => (f.EmployerId, f.Employee))];
    }

    /// <summary>
    /// Stores the WhatsApp id WhatsApp reported for an employee's number, when it differs from the number's digits, and
    /// indexes it so inbound messages find the employee by it.
    /// </summary>
    public async Task SetWaIdAsync(string employerId, string employeeId, string phone, string waId)
    {
        if (phone.AsSpan().TrimStart('+').SequenceEqual(waId)) return;
        await db.HashSetAsync(RedisKeys.Employee(employerId, employeeId), "waId", waId);
        await db.SetAddAsync(RedisKeys.PhoneOwners("+" + waId), $"{employerId}:{employeeId}");
    }

    /// <summary>Records that the employee messaged <paramref name="senderId"/>'s number at <paramref name="at"/>: its 24-hour window opens.</summary>
    public Task RecordInboundAsync(string employerId, string employeeId, string senderId, DateTimeOffset at) =>
        db.HashSetAsync(RedisKeys.Employee(employerId, employeeId), InboundField(senderId), at.ToUnixMs());

    private static string InboundField(string senderId) => $"in:{senderId}";

    /// <summary>
    /// Adds the employee to the global phone index. Written after the upsert script rather than inside it: the
    /// script's keys share the employer's hash slot and this key is the phone's, so one script cannot touch
    /// both on a cluster. Members are only ever added here, never removed, so two racing phone changes can
    /// leave a stale member (filtered out by <see cref="FindByPhoneAsync"/>) but never lose a current one.
    /// </summary>
    private Task IndexPhoneAsync(string employerId, string employeeId, string phone) =>
        db.SetAddAsync(RedisKeys.PhoneOwners(phone), $"{employerId}:{employeeId}");

    public async Task<Employee?> GetAsync(string employerId, string employeeId)
    {
        var values = await db.HashGetAsync(RedisKeys.Employee(employerId, employeeId), EmployeeFields);
        return ToEmployee(employeeId, values);
    }

    /// <summary>A page of employees in id order; <paramref name="after"/> is the last id of the previous page.</summary>
    /// <remarks>
    /// With a filter the page is found by scanning the employer's ids in chunks past the cursor, matching in Redis
    /// (one script call per chunk), until the page is full or the ids end: no per-value index to keep in step
    /// with every upsert and removal, at the price of reading past non-matching employees — a few round trips per
    /// 1,000 employees. The cursor stays "the last id returned", so paging works as without a filter.
    /// </remarks>
    public async Task<(IReadOnlyList<Employee> Items, string? Next)> ListAsync(string employerId, string? after, int limit, AudienceFilter? filter = null)
    {
        if (filter is not null) return await ListMatchingAsync(employerId, after, limit, filter);
        var ids = await IdsAfterAsync(employerId, after, limit + 1);
        var page = ids.Take(limit).Select(id => (string)id!).ToArray();
        var employees = await GetManyAsync(employerId, page);
        var items = page.Zip(employees).Where(p => p.Second is not null).Select(p => p.Second!).ToList();
        return (items, ids.Length > limit ? page[^1] : null);
    }

    private async Task<(IReadOnlyList<Employee> Items, string? Next)> ListMatchingAsync(string employerId, string? after, int limit, AudienceFilter filter)
    {
        var matching = new List<string>(limit + 1);
        while (matching.Count <= limit)
        {
            var ids = await IdsAfterAsync(employerId, after, ScanChunk);
            if (ids.Length == 0) break;
            var statuses = await StatusesAsync(employerId, ids, filter);
            // Removed employees are listed too, as without a filter.
            for (var i = 0; i < ids.Length && matching.Count <= limit; i++)
                if (statuses[i] is not null) matching.Add(ids[i]!);
            after = ids[^1];
        }
        var page = matching.Take(limit).ToArray();
        var employees = await GetManyAsync(employerId, page);
        var items = employees.Where(e => e is not null).Select(e => e!).ToList();
        return (items, matching.Count > limit ? page[^1] : null);
    }

    /// <summary>
    /// Looks employees up in one pipelined round trip; null where an id is unknown. With <paramref name="senderId"/>,
    /// each one's <see cref="Employee.LastInboundAt"/> is their last message to that sender's number.
    /// </summary>
    public async Task<Employee?[]> GetManyAsync(string employerId, IReadOnlyList<string> employeeIds, string? senderId = null)
    {
        RedisValue[] fields = senderId is null ? EmployeeFields : [.. EmployeeFields, InboundField(senderId)];
        var batch = db.CreateBatch();
        var reads = employeeIds.Select(id => batch.HashGetAsync(RedisKeys.Employee(employerId, id), fields)).ToArray();
        batch.Execute();
        var values = await Task.WhenAll(reads);
        return [.. employeeIds.Select((id, i) => ToEmployee(id, values[i]))];
    }

    /// <summary>
    /// The employees a pass sends to, in one pipelined round trip, with only what a send needs: phone, status, WhatsApp
    /// id, username, language and time zone, and their last message to <paramref name="senderId"/>'s number. Their name,
    /// <see cref="Employee.UpdatedAt"/> and the other attributes are not read (null, the epoch). Null where an id is unknown.
    /// </summary>
    public async Task<Employee?[]> RecipientsAsync(string employerId, IReadOnlyList<string> employeeIds, string senderId)
    {
        RedisValue[] fields = [.. RecipientFields, InboundField(senderId)];
        var batch = db.CreateBatch();
        var reads = new Task<RedisValue[]>[employeeIds.Count];
        for (var i = 0; i < reads.Length; i++) reads[i] = batch.HashGetAsync(RedisKeys.Employee(employerId, employeeIds[i]), fields);
        batch.Execute();
        var recipients = new Employee?[reads.Length];
        for (var i = 0; i < reads.Length; i++)
        {
            var v = await reads[i];
            recipients[i] = v[1].IsNull
                ? null
                : new Employee(employeeIds[i], v[0]!, null, v[1]!, DateTimeOffset.UnixEpoch, new EmployeeAttributes(Language: Text(v[4]), TimeZone: Text(v[5])),
                    Text(v[2]), v[6].IsNull ? null : Clock.FromUnixMs((long)v[6]), Text(v[3]));
        }
        return recipients;
    }

    private static readonly RedisValue[] RecipientFields = ["phone", "status", "waId", "username", "language", "timeZone"];

    /// <summary>Sets the status; false when the employee does not exist or was removed.</summary>
    /// <param name="requestedAt">When the employee asked for it (WhatsApp's message time): an older request than the
    /// last one applied changes nothing, whichever host works it off last.</param>
    public async Task<bool> SetStatusAsync(string employerId, string employeeId, string status, DateTimeOffset? requestedAt = null)
    {
        var previous = await db.ScriptEvaluateAsync(LuaScripts.SetEmployeeStatus,
            [RedisKeys.Employee(employerId, employeeId), RedisKeys.Phones(employerId)],
            [employeeId, status, time.GetUtcNow().ToUnixMs(), requestedAt is { } at ? at.ToUnixMs() : ""]);
        return !previous.IsNull;
    }

    /// <summary>Removes the employee; the global indexes (phone, WhatsApp id, BSUIDs) stop naming them.</summary>
    public async Task<bool> RemoveAsync(string employerId, string employeeId)
    {
        var before = await db.HashGetAsync(RedisKeys.Employee(employerId, employeeId), ["phone", "waId"]);
        if (!await SetStatusAsync(employerId, employeeId, EmployeeStatus.Removed)) return false;
        if ((string?)before[0] is { } phone) await UnindexAsync(employerId, employeeId, phone, before[1]);
        await userIds.ForgetAsync(employerId, employeeId);
        return true;
    }

    /// <summary>
    /// Every employee id that is not removed (and matches <paramref name="filter"/>, when given): the audience of an
    /// announcement sent to all, or to an audience by attribute.
    /// </summary>
    public async IAsyncEnumerable<string> AudienceAsync(string employerId, AudienceFilter? filter = null)
    {
        string? after = null;
        while (true)
        {
            var ids = await IdsAfterAsync(employerId, after, ScanChunk);
            if (ids.Length == 0) yield break;
            var statuses = await StatusesAsync(employerId, ids, filter);
            for (var i = 0; i < ids.Length; i++)
            {
                // Opted-out employees stay in the audience so they are counted as skipped.
                if (statuses[i] is { } s && s != EmployeeStatus.Removed) yield return ids[i]!;
            }
            after = ids[^1];
        }
    }

    /// <summary>How many employees <see cref="AudienceAsync"/> would give now (e.g. for a preview): the same scan, counted.</summary>
    public async Task<long> CountAudienceAsync(string employerId, AudienceFilter? filter = null)
    {
        long count = 0;
        await foreach (var _ in AudienceAsync(employerId, filter)) count++;
        return count;
    }

    private const int ScanChunk = 1000;

    private Task<RedisValue[]> IdsAfterAsync(string employerId, string? after, int take) =>
        db.SortedSetRangeByValueAsync(RedisKeys.Employees(employerId),
            min: after ?? default(RedisValue), max: default, exclude: after is null ? Exclude.None : Exclude.Start,
            order: Order.Ascending, skip: 0, take: take);

    /// <summary>Each employee's status; null where it does not exist or does not match <paramref name="filter"/>.</summary>
    private async Task<string?[]> StatusesAsync(string employerId, RedisValue[] ids, AudienceFilter? filter)
    {
        var keys = ids.Select(id => RedisKeys.Employee(employerId, id!)).ToArray();
        RedisValue[] args = filter is null ? [] : [.. filter.ToScriptArguments().Select(a => (RedisValue)a)];
        var statuses = (RedisResult[])(await db.ScriptEvaluateAsync(LuaScripts.EmployeeStatuses, keys, args))!;
        return [.. statuses.Select(s => (string?)s is { Length: > 0 } status ? status : null)];
    }

    /// <summary>Everything an <see cref="Employee"/> holds, read with one HMGET (with the window of one sender when asked).</summary>
    private static readonly RedisValue[] EmployeeFields = ["phone", "name", "status", "updatedAt", "department", "location", "language", "timeZone", "tags", "waId", "username"];

    private static Employee? ToEmployee(string employeeId, RedisValue[] v) =>
        v[2].IsNull
            ? null
            : new Employee(employeeId, v[0]!, Text(v[1]), v[2]!, Clock.FromUnixMs((long)v[3]),
                new EmployeeAttributes(Text(v[4]), Text(v[5]), Text(v[6]), Text(v[7]),
                    Text(v[8]) is { } tags ? tags.Split(EmployeeAttributeRules.TagSeparator) : null),
                Text(v[9]), v.Length > 11 && !v[11].IsNull ? Clock.FromUnixMs((long)v[11]) : null, Text(v[10]));

    private static string? Text(RedisValue value) => value.IsNullOrEmpty ? null : (string?)value;
}

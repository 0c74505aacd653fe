import { Field, ID, ObjectType } from 'type-graphql';

@ObjectType('ValidationIssue', { description: 'Something that will fail or mislead, found by validateAutomation or validateWorkspace' })
export class ValidationIssueObject {
  @Field(() => String, {
    description:
      'TRANSFORM_COLUMNS, INPUT_NOT_FED, CHAIN_STEP_INACTIVE, SCHEDULE_NEVER_FIRES, UNKNOWN_PARAMETER, UNDECLARED_DATASOURCE, JOIN_KEY_MISSING, CONNECTION_FAILED',
  })
  type!: string;
  @Field(() => String, { description: 'AUTOMATION or DATASOURCE' }) objectType!: string;
  @Field(() => ID, { description: 'The automation or datasource it is about' }) objectId!: string;
  @Field(() => String) objectName!: string;
  @Field(() => String, { nullable: true, description: 'The field to blame, as the inputs name it (transform.sql, stepIds[1], join.leftKey…)' }) field!: string | null;
  @Field(() => String) message!: string;
}

@ObjectType('ValidationResult')
export class ValidationResultObject {
  @Field(() => Boolean, { description: 'No issue found' }) success!: boolean;
  @Field(() => [ValidationIssueObject]) issues!: ValidationIssueObject[];
}
